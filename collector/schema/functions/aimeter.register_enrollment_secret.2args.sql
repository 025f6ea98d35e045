-- The collector registers the hash of its [enrollment] secret_file at start
-- and on reload. A row that exists is left alone, so a secret revoked with
-- `aimeterctl enroll-token revoke` stays revoked when the collector restarts.
CREATE OR REPLACE FUNCTION aimeter.register_enrollment_secret(p_secret_hash bytea, p_label text)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	INSERT INTO aimeter.enrollment_secrets (secret_hash, label)
	SELECT p_secret_hash, p_label WHERE length(p_secret_hash) = 32
	ON CONFLICT (secret_hash) DO NOTHING;
$$;
REVOKE ALL ON FUNCTION aimeter.register_enrollment_secret(bytea,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.register_enrollment_secret(bytea,text) TO aimeter_ingest, aimeter_admin;
