-- 0014: the OTLP/HTTP receiver (docs/otlp.md). Bearer tokens an
-- administrator manages (`aimeterctl otlp-token create|list|revoke`), kept
-- as SHA-256 hashes only, like device tokens. A token may be pinned to a
-- team: the events it sends carry that team as their hint.
CREATE TABLE aimeter.otlp_tokens (
	token_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 127),
	token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	team_hint text CHECK (length(team_hint) BETWEEN 1 AND 127),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz,
	revoked_at timestamptz
);
-- The collector reads only what authentication needs.
GRANT SELECT (token_id, token_hash, team_hint, expires_at, revoked_at)
	ON aimeter.otlp_tokens TO aimeter_ingest;
