-- One model call counted once, whichever way it arrives (issue 15, point 4;
-- docs/otlp.md, "One call, counted once"). The agent ships each Claude call's
-- request id (UsageEvent.request_id, schema version 3) and Claude Code's
-- OpenTelemetry api_request event carries the same id: the transcript's copy
-- wins (it has the 5m/1h cache split), an OTLP copy only corroborates it, and a
-- call seen only through OTLP counts from OTLP.

-- The ids as staged (pg_temp.am_stage_request, beside am_stage: the event at
-- batch_idx, ord carries request_id), opaque ("req_..."), no content.
CREATE TABLE aimeter.stage_request_template (
	batch_idx int NOT NULL,
	ord int NOT NULL,
	request_id text NOT NULL
);
GRANT SELECT ON aimeter.stage_request_template TO aimeter_ingest;

-- One row per request id ever staged: who has seen the call, and which copy
-- is counted in usage_events (event_id, ts). Its primary key is the index for
-- lookups by request id, and the lock that orders two transactions carrying
-- the same call (aimeter.ingest_requests). Kept beside usage_events rather
-- than as a column of it, so the write path's INSERT stays as it is.
CREATE TABLE aimeter.usage_requests (
	request_id text PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 128),
	tool text NOT NULL,
	counted text CHECK (counted IN ('agent', 'otel')), -- NULL: no copy stored
	event_id bytea,        -- the counted copy's key in usage_events
	ts timestamptz,
	agent_seen timestamptz, -- first time the transcript's copy arrived
	otel_seen timestamptz,  -- first time an OTLP copy arrived
	superseded int NOT NULL DEFAULT 0 -- OTLP copies replaced by the transcript's
);
CREATE INDEX usage_requests_event ON aimeter.usage_requests (event_id) WHERE event_id IS NOT NULL;

-- One staged copy of a call, as aimeter.ingest_requests() judges it (a
-- type, not a temporary table: a definer must not use tables the caller's
-- session could have planted).
CREATE TYPE aimeter.request_copy AS (
	batch_idx int,
	ord int,
	event_id bytea,
	ts timestamptz,
	request_id text,
	tool text,
	otel boolean,   -- an OTLP copy (a batch with neither device nor batch id)
	drop_it boolean -- only corroborates a transcript record: not written
);

-- A call's aimeter.usage_requests row as aimeter.ingest_requests() found it
-- once locked (fresh: inserted by this transaction, with its own verdict).
CREATE TYPE aimeter.request_state AS (
	request_id text,
	counted text,
	event_id bytea,
	ts timestamptz,
	agent_seen timestamptz,
	otel_seen timestamptz,
	fresh boolean
);
