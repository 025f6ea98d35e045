-- 0107_enrollment_limits.sql (issue 11): enrollment and revocation that hold
-- against a secret left on disk or handed around, and audit rows only the
-- audited code writes.
--
-- - Revocation sticks: revoking a device records its host identity (the
--   hostname the agent sent, lowercased: all an agent tells about its host)
--   in aimeter.revoked_hosts; enroll_device refuses that host until an
--   administrator allows it (`aimeterctl device allow-reenroll`). Each
--   revocation also notifies channel aimeter_device_revoked with the device
--   id, so collectors purge their token caches.
-- - A cap on the active devices of each secret (max_devices), the
--   collector's [enrollment] secret_file included.
-- - Secrets of at least 128 bits: secret_bits says how strong a secret is,
--   and the database refuses to store one declared weaker.
-- - Readers can no longer write audit rows (0103's reporting.log_export let
--   them write any); a FOCUS export audits itself inside
--   reporting.export_focus.
--
-- SQLSTATEs enroll_device raises (the collector maps them to HTTP):
--   28000  unknown, expired or revoked secret (unchanged since 0001)
--   AMREV  the host belongs to a revoked device and is not allowed back
--   AMCAP  the secret has as many active devices as its max_devices
-- register_enrollment_secret(hash, label, bits) raises 22023 for fewer than
-- 128 bits.

-- ---------------------------------------------------------------------------
-- Secrets: strength and a device cap.
ALTER TABLE aimeter.enrollment_secrets
	-- NULL: registered without a declared strength (before 0107, or by a
	-- collector that calls the two-argument register_enrollment_secret).
	ADD COLUMN secret_bits integer CONSTRAINT enrollment_secret_128_bits
		CHECK (secret_bits >= 128),
	ADD COLUMN max_devices integer NOT NULL DEFAULT 1000
		CONSTRAINT enrollment_secret_max_devices CHECK (max_devices BETWEEN 1 AND 1000000);
-- The cap counts active devices per secret at every enrollment.
CREATE INDEX IF NOT EXISTS devices_enrolled_with ON aimeter.devices (enrolled_with)
	WHERE revoked_at IS NULL;

-- ---------------------------------------------------------------------------
-- Hosts of revoked devices. A row of its own rather than a look at
-- aimeter.devices: the collector's role may update a device's hostname, and
-- must not be able to lift a block that way.
CREATE TABLE aimeter.revoked_hosts (
	host text PRIMARY KEY, -- lower(hostname)
	device_id uuid NOT NULL, -- the device whose revocation blocked it last
	revoked_at timestamptz NOT NULL DEFAULT now(),
	allowed_at timestamptz, -- set by allow-reenroll: the host may enroll again
	allowed_by text
);

-- Hosts revoked before 0107 and not enrolled again since stay out too.
INSERT INTO aimeter.revoked_hosts (host, device_id, revoked_at)
SELECT DISTINCT ON (lower(d.hostname)) lower(d.hostname), d.device_id, d.revoked_at
  FROM aimeter.devices d
 WHERE d.revoked_at IS NOT NULL AND d.hostname IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM aimeter.devices e
		    WHERE lower(e.hostname) = lower(d.hostname) AND e.revoked_at IS NULL
		      AND e.first_seen >= d.revoked_at)
 ORDER BY lower(d.hostname), d.revoked_at DESC;

-- Runs as the revoker (an administrator); touches only aimeter's own table.
CREATE FUNCTION aimeter.device_revoked()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO aimeter.revoked_hosts AS h (host, device_id, revoked_at)
	VALUES (lower(coalesce(NEW.hostname, '')), NEW.device_id, NEW.revoked_at)
	ON CONFLICT (host) DO UPDATE
	   SET device_id = EXCLUDED.device_id, revoked_at = EXCLUDED.revoked_at,
	       allowed_at = NULL, allowed_by = NULL;
	PERFORM pg_notify('aimeter_device_revoked', NEW.device_id::text);
	RETURN NULL;
END
$$;
CREATE TRIGGER devices_revoked AFTER UPDATE OF revoked_at ON aimeter.devices
	FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
	EXECUTE FUNCTION aimeter.device_revoked();

-- aimeter.allow_reenroll(device_or_host): lift the block of the host of a
-- revoked device (given by device id or hostname); returns the hosts allowed.
CREATE FUNCTION aimeter.allow_reenroll(p_device_or_host text)
RETURNS SETOF text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN QUERY
	UPDATE aimeter.revoked_hosts h SET allowed_at = now(), allowed_by = session_user
	 WHERE h.allowed_at IS NULL
	   AND (h.host = lower(p_device_or_host) OR h.device_id::text = lower(p_device_or_host)
		OR h.host IN (SELECT lower(d.hostname) FROM aimeter.devices d
			       WHERE d.device_id::text = lower(p_device_or_host)))
	RETURNING h.host;
END
$$;

-- ---------------------------------------------------------------------------
-- The one judge of enrollment: secret, then host, then cap.
CREATE OR REPLACE FUNCTION aimeter.enroll_device(p_secret_hash bytea, p_hostname text, p_os text,
						 p_agent_version text, p_token_hash bytea)
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_id uuid;
	v_team text;
	v_max integer;
	v_active bigint;
BEGIN
	-- FOR UPDATE: enrollments with one secret take turns, so two at once
	-- cannot both see the last free place under the cap.
	SELECT s.team_hint, s.max_devices INTO v_team, v_max FROM aimeter.enrollment_secrets s
	 WHERE s.secret_hash = p_secret_hash AND s.revoked_at IS NULL
	   AND (s.expires_at IS NULL OR s.expires_at > now())
	   FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown, expired or revoked enrollment secret' USING ERRCODE = '28000';
	END IF;
	-- After the secret: only holders of a good secret learn a host is blocked.
	IF EXISTS (SELECT 1 FROM aimeter.revoked_hosts h
		    WHERE h.host = lower(coalesce(p_hostname, '')) AND h.allowed_at IS NULL) THEN
		RAISE EXCEPTION 'the host of a revoked device may not enroll again'
			USING ERRCODE = 'AMREV',
			      HINT = 'an administrator can allow it: aimeterctl device allow-reenroll HOST';
	END IF;
	SELECT count(*) INTO v_active FROM aimeter.devices d
	 WHERE d.enrolled_with = p_secret_hash AND d.revoked_at IS NULL;
	IF v_active >= v_max THEN
		RAISE EXCEPTION 'enrollment secret has reached its cap of % active devices', v_max
			USING ERRCODE = 'AMCAP',
			      HINT = 'aimeterctl enroll-token set ID --max-devices N raises it';
	END IF;
	INSERT INTO aimeter.devices (token_hash, hostname, os, agent_version, enrolled_with, team_hint)
	VALUES (p_token_hash, p_hostname, p_os, p_agent_version, p_secret_hash, v_team)
	RETURNING device_id INTO v_id;
	RETURN v_id;
END
$$;

-- register_enrollment_secret(hash, label, bits): the collector's
-- [enrollment] secret_file, with the strength the collector estimated from
-- the secret's length and alphabet (4 bits a character for hex, 6 for
-- base64 and other text). Weaker than 128 bits is refused.
CREATE FUNCTION aimeter.register_enrollment_secret(p_secret_hash bytea, p_label text,
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
REVOKE ALL ON FUNCTION aimeter.register_enrollment_secret(bytea, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.register_enrollment_secret(bytea, text, integer)
	TO aimeter_ingest, aimeter_admin;

-- ---------------------------------------------------------------------------
-- Audit rows: written only by the audited functions.
DROP FUNCTION reporting.log_export(text, text, jsonb);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON aimeter.audit_log FROM PUBLIC, aimeter_reader,
	aimeter_ingest;
REVOKE ALL ON FUNCTION aimeter.audit(text, text, jsonb) FROM PUBLIC, aimeter_reader,
	aimeter_ingest;

-- reporting.export_focus(month): the month's FOCUS rows, in export order,
-- and an audit row of who exported which month and how many rows. The
-- reader exports through it; it reads only reporting's view, which readers
-- cannot replace, and writes only through aimeter.audit.
CREATE FUNCTION reporting.export_focus(p_month date)
RETURNS SETOF reporting.focus_cost_and_usage
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_first date := date_trunc('month', p_month)::date;
	v_rows bigint;
BEGIN
	RETURN QUERY
	SELECT f.* FROM reporting.focus_cost_and_usage f
	 WHERE f."BillingPeriodStart" = v_first::timestamp AT TIME ZONE 'UTC'
	 ORDER BY f."x_Source", f."SubAccountId", f."x_Team", f."SkuId", f."ChargePeriodStart";
	GET DIAGNOSTICS v_rows = ROW_COUNT;
	PERFORM aimeter.audit('export_focus', to_char(v_first, 'YYYY-MM'),
			      jsonb_build_object('rows', v_rows, 'role', current_user));
END
$$;
REVOKE ALL ON FUNCTION reporting.export_focus(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.export_focus(date) TO aimeter_reader;

-- ---------------------------------------------------------------------------
-- Privileges and owners.
REVOKE ALL ON aimeter.revoked_hosts FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON aimeter.revoked_hosts TO aimeter_admin;
REVOKE ALL ON FUNCTION aimeter.device_revoked(), aimeter.allow_reenroll(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.allow_reenroll(text) TO aimeter_admin;

-- The definer functions above belong to the owner of their schema (the
-- migration role), whoever ran this file.
DO $$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT p.oid::regprocedure AS fn, n.nspowner::regrole AS owner
		   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		  WHERE p.oid IN ('aimeter.enroll_device(bytea, text, text, text, bytea)'::regprocedure,
				  'aimeter.register_enrollment_secret(bytea, text, integer)'::regprocedure,
				  'reporting.export_focus(date)'::regprocedure)
		    AND p.proowner <> n.nspowner LOOP
		IF pg_has_role(current_user, f.owner::oid, 'MEMBER') THEN
			EXECUTE format('ALTER FUNCTION %s OWNER TO %s', f.fn, f.owner);
		END IF;
	END LOOP;
END
$$;
