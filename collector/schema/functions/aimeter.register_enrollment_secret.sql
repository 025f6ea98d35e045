-- register_enrollment_secret(hash, label, bits): the collector's
-- [enrollment] secret_file, with the strength the collector estimated from
-- the secret's length and alphabet (4 bits a character for hex, 6 for
-- base64 and other text). Weaker than 128 bits is refused.
CREATE OR REPLACE FUNCTION aimeter.register_enrollment_secret(p_secret_hash bytea, p_label text,
						   p_secret_bits integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF p_secret_bits IS NULL OR p_secret_bits < 128 THEN
		RAISE EXCEPTION 'enrollment secret too weak: % bits, at least 128 needed',
			coalesce(p_secret_bits::text, 'unknown')
			USING ERRCODE = '22023',
			      HINT = 'use 32 or more random hex digits or 22 or more random base64 characters';
	END IF;
	IF length(p_secret_hash) <> 32 THEN
		RAISE EXCEPTION 'an enrollment secret hash is 32 bytes of SHA-256' USING ERRCODE = '22023';
	END IF;
	INSERT INTO aimeter.enrollment_secrets (secret_hash, label, secret_bits)
	VALUES (p_secret_hash, p_label, p_secret_bits)
	ON CONFLICT (secret_hash) DO UPDATE SET secret_bits = EXCLUDED.secret_bits
	 WHERE enrollment_secrets.secret_bits IS NULL;
END
$$;
REVOKE ALL ON FUNCTION aimeter.register_enrollment_secret(bytea,text,integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.register_enrollment_secret(bytea,text,integer) TO aimeter_ingest, aimeter_admin;
