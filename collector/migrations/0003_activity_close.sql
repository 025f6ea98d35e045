-- 0003_activity_close.sql (issue 7): settings, the audit log, activity
-- rollups for adoption, accounting periods and the guard that keeps closed
-- months' rollups frozen (late data becomes corrections in an open month).
-- See docs/reports-finance.md.

ALTER TABLE aimeter.settings
	-- Raw events older than this many months are dropped by `retention apply`.
	ADD COLUMN retention_raw_months int NOT NULL DEFAULT 13 CHECK (retention_raw_months > 0),
	-- Per-person rollups older than this are folded into team rollups.
	ADD COLUMN retention_person_months int NOT NULL DEFAULT 12
		CHECK (retention_person_months > 0),
	-- FOCUS BillingAccountId/Name of this organisation.
	ADD COLUMN billing_account_id text NOT NULL DEFAULT 'aimeter',
	ADD COLUMN billing_account_name text NOT NULL DEFAULT 'aimeter',
	-- Purpose and legal basis (GDPR Art. 6(1)(f)), shown in person exports.
	ADD COLUMN processing_purpose text NOT NULL DEFAULT
		'Measuring adoption and cost of AI coding tools per team (legitimate interest, Art. 6(1)(f) GDPR)';
ALTER TABLE aimeter.settings ADD CONSTRAINT settings_min_group_size CHECK (min_group_size >= 1);

-- ---------------------------------------------------------------------------
-- Audit: every reveal, export, erasure, close, reopen and retention run.
-- Append-only; subjects are person keys or identity HMACs in hex, never
-- identities.
CREATE TABLE aimeter.audit_log (
	audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	actor text NOT NULL DEFAULT session_user,
	action text NOT NULL,
	subject text,
	detail jsonb NOT NULL DEFAULT '{}'
);

-- ---------------------------------------------------------------------------
-- Activity: who was active on which day, in which team, with which tool.
-- A person is active on a day with at least one stored event (one billed
-- model call). tool '*' is "any tool". Fed from the rows usage_daily gains
-- (a statement trigger over its insert transition table), so a replayed
-- batch adds nothing here either.
CREATE TABLE aimeter.activity_daily (
	day date NOT NULL,
	team_id int NOT NULL,
	tool text NOT NULL,
	person_key bytea NOT NULL,
	PRIMARY KEY (day, team_id, tool, person_key)
);
CREATE INDEX ON aimeter.activity_daily (person_key, tool, day);
-- Weekly (ISO, week = its Monday) and monthly: active days per person.
CREATE TABLE aimeter.activity_weekly (
	week date NOT NULL,
	team_id int NOT NULL,
	tool text NOT NULL,
	person_key bytea NOT NULL,
	active_days int NOT NULL,
	PRIMARY KEY (week, team_id, tool, person_key)
);
CREATE TABLE aimeter.activity_monthly (
	month date NOT NULL,
	team_id int NOT NULL,
	tool text NOT NULL,
	person_key bytea NOT NULL,
	active_days int NOT NULL,
	PRIMARY KEY (month, team_id, tool, person_key)
);
CREATE INDEX ON aimeter.activity_monthly (person_key, tool, month);
-- First and last active day per person and tool (tool '*': any), kept with
-- the activity; "new" in the adoption flows is a first day in the period.
CREATE TABLE aimeter.activity_seen (
	person_key bytea NOT NULL,
	tool text NOT NULL,
	first_day date NOT NULL,
	last_day date NOT NULL,
	PRIMARY KEY (person_key, tool)
);
-- What retention leaves of folded per-person activity: team counts only.
CREATE TABLE aimeter.activity_team_archive (
	period_kind text NOT NULL CHECK (period_kind IN ('week', 'month')),
	period date NOT NULL,
	team_id int NOT NULL,
	tool text NOT NULL,
	active_people int NOT NULL,
	person_days bigint NOT NULL,
	PRIMARY KEY (period_kind, period, team_id, tool)
);

-- The activity of what usage_daily already holds (the trigger, in
-- collector/schema/, feeds it from then on).
WITH src AS (
	SELECT DISTINCT day, team_id, tool, person_key FROM aimeter.usage_daily
	 WHERE person_key <> ''
	UNION
	SELECT DISTINCT day, team_id, '*', person_key FROM aimeter.usage_daily
	 WHERE person_key <> ''
), new AS (
	INSERT INTO aimeter.activity_daily AS a (day, team_id, tool, person_key)
	SELECT day, team_id, tool, person_key FROM src ORDER BY 1, 2, 3, 4
	ON CONFLICT DO NOTHING
	RETURNING a.*
), seen AS (
	INSERT INTO aimeter.activity_seen AS x
	SELECT person_key, tool, min(day), max(day) FROM new GROUP BY 1, 2 ORDER BY 1, 2
	ON CONFLICT (person_key, tool) DO UPDATE
		SET first_day = least(x.first_day, excluded.first_day),
		    last_day = greatest(x.last_day, excluded.last_day)
), wk AS (
	INSERT INTO aimeter.activity_weekly AS w
	SELECT date_trunc('week', day)::date, team_id, tool, person_key, count(*)
	  FROM new GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (week, team_id, tool, person_key)
	DO UPDATE SET active_days = w.active_days + excluded.active_days
)
INSERT INTO aimeter.activity_monthly AS m
SELECT date_trunc('month', day)::date, team_id, tool, person_key, count(*)
  FROM new GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (month, team_id, tool, person_key)
DO UPDATE SET active_days = m.active_days + excluded.active_days;

-- Team headcount comes from memberships; reports look it up per team.
CREATE INDEX IF NOT EXISTS memberships_team_idx ON aimeter.memberships (team_id, valid_from);

-- ---------------------------------------------------------------------------
-- Accounting periods and the close guard.
CREATE TABLE aimeter.accounting_periods (
	month date PRIMARY KEY CHECK (month = date_trunc('month', month)::date),
	status text NOT NULL CHECK (status IN ('open', 'closed')),
	content_hash text,
	line_count int,
	closed_at timestamptz,
	closed_by text,
	CHECK (status = 'open' OR content_hash IS NOT NULL)
);
CREATE TABLE aimeter.period_log (
	log_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	month date NOT NULL,
	action text NOT NULL CHECK (action IN ('close', 'reopen')),
	reason text,
	content_hash text,
	at timestamptz NOT NULL DEFAULT now(),
	actor text NOT NULL DEFAULT session_user
);

-- Late usage for a closed month, booked in the first open month after it
-- (accounting_month) with its service day. Team level: no person.
CREATE TABLE aimeter.usage_corrections (
	accounting_month date NOT NULL,
	service_day date NOT NULL,
	team_id int NOT NULL,
	cost_center_id int NOT NULL,
	tool text NOT NULL,
	model text NOT NULL,
	billing_mode text NOT NULL,
	events bigint NOT NULL,
	input_tokens numeric NOT NULL,
	output_tokens numeric NOT NULL,
	cache_write_5m_tokens numeric NOT NULL,
	cache_write_1h_tokens numeric NOT NULL,
	cache_read_tokens numeric NOT NULL,
	reasoning_tokens numeric NOT NULL,
	web_search_requests numeric NOT NULL,
	cost numeric NOT NULL,
	unpriced_events bigint NOT NULL,
	PRIMARY KEY (accounting_month, service_day, team_id, cost_center_id, tool, model,
		     billing_mode)
);

