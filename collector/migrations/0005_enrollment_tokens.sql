-- 0005_enrollment_tokens.sql: enrollment secrets an administrator manages
-- (`aimeterctl enroll-token create|list|revoke`, `aimeterctl init`) beside
-- the collector's optional [enrollment] secret_file; docs/write-path.md.
--
-- Both kinds live in aimeter.enrollment_secrets as SHA-256 hashes, and
-- aimeter.enroll_device is their one judge: unknown, expired or revoked
-- secrets are refused whichever way they were made. A secret is good only
-- for enrollment; the device gets its own token (aimeter.devices).

-- The team a secret stands for (`--team`): devices enrolled with it carry it,
-- and the collector uses it as the team hint of their events that have none.
ALTER TABLE aimeter.enrollment_secrets
	ADD COLUMN team_hint text CHECK (length(team_hint) BETWEEN 1 AND 127);
ALTER TABLE aimeter.devices
	ADD COLUMN team_hint text;

CREATE OR REPLACE FUNCTION aimeter.enroll_device(p_secret_hash bytea, p_hostname text, p_os text,
						 p_agent_version text, p_token_hash bytea)
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_id uuid;
	v_team text;
BEGIN
	SELECT s.team_hint INTO v_team FROM aimeter.enrollment_secrets s
	 WHERE s.secret_hash = p_secret_hash AND s.revoked_at IS NULL
	   AND (s.expires_at IS NULL OR s.expires_at > now());
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown, expired or revoked enrollment secret' USING ERRCODE = '28000';
	END IF;
	INSERT INTO aimeter.devices (token_hash, hostname, os, agent_version, enrolled_with, team_hint)
	VALUES (p_token_hash, p_hostname, p_os, p_agent_version, p_secret_hash, v_team)
	RETURNING device_id INTO v_id;
	RETURN v_id;
END
$$;

-- The collector registers the hash of its [enrollment] secret_file at start
-- and on reload. A row that exists is left alone, so a secret revoked with
-- `aimeterctl enroll-token revoke` stays revoked when the collector restarts.
CREATE FUNCTION aimeter.register_enrollment_secret(p_secret_hash bytea, p_label text)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	INSERT INTO aimeter.enrollment_secrets (secret_hash, label)
	SELECT p_secret_hash, p_label WHERE length(p_secret_hash) = 32
	ON CONFLICT (secret_hash) DO NOTHING;
$$;

REVOKE ALL ON FUNCTION aimeter.register_enrollment_secret(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.register_enrollment_secret(bytea, text) TO aimeter_ingest;
GRANT EXECUTE ON FUNCTION aimeter.register_enrollment_secret(bytea, text) TO aimeter_admin;
GRANT SELECT (team_hint) ON aimeter.devices TO aimeter_ingest;
