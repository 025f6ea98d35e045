-- 0011: action records (docs/actions.md): one row per tool call an AI tool
-- made, exactly once by action_id like usage events, and their daily
-- rollups. Written by aimeter.ingest_actions() in the batch's transaction.
CREATE TABLE aimeter.action_events (
	action_id bytea NOT NULL,
	ts timestamptz NOT NULL,
	tool text NOT NULL,
	session text NOT NULL DEFAULT '',
	project text NOT NULL DEFAULT '',
	person_key bytea,        -- NULL when the record carried no identity
	team_id int NOT NULL,
	cost_center_id int NOT NULL,
	device_id uuid,
	kind text NOT NULL CHECK (kind IN ('edit', 'write', 'shell', 'commit', 'pull_request',
		'subagent', 'skill', 'mcp', 'web', 'other')),
	tool_name text NOT NULL, -- built-in in clear, else "h:<hex>" unless allowlisted
	target text NOT NULL DEFAULT '',
	decision text NOT NULL CHECK (decision IN ('accepted', 'rejected', 'error', 'unknown')),
	lines_added bigint NOT NULL,
	lines_removed bigint NOT NULL,
	proposed_lines_added bigint NOT NULL,
	proposed_lines_removed bigint NOT NULL,
	file_ext text NOT NULL DEFAULT '',
	commits int NOT NULL CHECK (commits IN (0, 1)),
	pull_requests int NOT NULL CHECK (pull_requests IN (0, 1)),
	in_subagent boolean NOT NULL,
	PRIMARY KEY (action_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE aimeter.action_events_default PARTITION OF aimeter.action_events DEFAULT;

-- Per day, person, team, tool and what the action was; the reporting views
-- read this, never action_events.
CREATE TABLE aimeter.actions_daily (
	day date NOT NULL,
	person_key bytea NOT NULL, -- '' when the record carried no identity
	team_id int NOT NULL,
	cost_center_id int NOT NULL,
	tool text NOT NULL,
	tool_name text NOT NULL,
	target text NOT NULL,
	kind text NOT NULL,
	decision text NOT NULL,
	project text NOT NULL,
	calls bigint NOT NULL,
	lines_added bigint NOT NULL,
	lines_removed bigint NOT NULL,
	proposed_lines_added bigint NOT NULL,
	proposed_lines_removed bigint NOT NULL,
	commits bigint NOT NULL,
	pull_requests bigint NOT NULL,
	PRIMARY KEY (day, person_key, team_id, cost_center_id, tool, tool_name, target, kind,
		     decision, project)
);
-- Sessions with at least one accepted edit or write: a set, not a sum.
CREATE TABLE aimeter.action_edit_sessions (
	day date NOT NULL,
	team_id int NOT NULL,
	tool text NOT NULL,
	session text NOT NULL,
	PRIMARY KEY (day, team_id, tool, session)
);
-- As for the other tables: the admin reads and writes, nobody adds triggers
-- (0006: a trigger fires as whoever writes).
GRANT SELECT, INSERT, UPDATE, DELETE ON aimeter.action_events, aimeter.action_events_default,
	aimeter.actions_daily, aimeter.action_edit_sessions TO aimeter_admin;
