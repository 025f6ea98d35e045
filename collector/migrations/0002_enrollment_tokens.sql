-- 0002_enrollment_tokens.sql: enrollment secrets an administrator manages
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

GRANT SELECT (team_hint) ON aimeter.devices TO aimeter_ingest;
