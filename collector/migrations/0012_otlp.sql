-- 0012: the OTLP/HTTP receiver (docs/otlp.md). Bearer tokens an
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

-- Counters from OTLP metrics (claude_code.lines_of_code.count, commit.count,
-- pull_request.count): one row per series (a hash of the metric name and
-- every attribute, never the attributes themselves) holding what has been
-- counted of it, so a retried export, a collector restart or a counter
-- reset never counts anything twice; aimeter.ingest_otlp_points() keeps it.
CREATE TABLE aimeter.otlp_series (
	series bytea PRIMARY KEY CHECK (length(series) = 32),
	metric text NOT NULL,
	start_ns numeric NOT NULL,  -- start_time_unix_nano of the cumulative run
	last_ns numeric NOT NULL,   -- time_unix_nano of the last point counted
	last_value numeric NOT NULL -- the cumulative value at last_ns (0 for delta)
);
-- Per day, person, team, tool, metric and kind (lines: added / removed).
CREATE TABLE aimeter.otlp_counters_daily (
	day date NOT NULL,
	person_key bytea NOT NULL, -- '' when the sender gave no identity
	team_id int NOT NULL,
	tool text NOT NULL,
	metric text NOT NULL,
	kind text NOT NULL,
	value numeric NOT NULL,
	PRIMARY KEY (day, person_key, team_id, tool, metric, kind)
);
