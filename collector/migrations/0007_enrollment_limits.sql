-- 0007_enrollment_limits.sql (issue 11): enrollment and revocation that hold
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

-- ---------------------------------------------------------------------------
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON aimeter.audit_log FROM PUBLIC, aimeter_reader,
	aimeter_ingest;

-- ---------------------------------------------------------------------------
-- Privileges and owners.
REVOKE ALL ON aimeter.revoked_hosts FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON aimeter.revoked_hosts TO aimeter_admin;

