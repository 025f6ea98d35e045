-- 0100_activity_close.sql (issue 7): settings, the audit log, activity
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
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON aimeter.audit_log
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();

CREATE FUNCTION aimeter.audit(p_action text, p_subject text, p_detail jsonb)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	INSERT INTO aimeter.audit_log (action, subject, detail)
	VALUES (p_action, p_subject, coalesce(p_detail, '{}'))
$$;

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

-- aimeter.activity_add(): add (day, team, tool, person) rows from a
-- temporary table am_act_new; only the pairs that are new count a day.
CREATE FUNCTION aimeter.activity_add_from(p_rows regclass)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	EXECUTE format($q$
	WITH src AS (
		SELECT DISTINCT day, team_id, tool, person_key FROM %1$s
		UNION
		SELECT DISTINCT day, team_id, '*', person_key FROM %1$s
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
	DO UPDATE SET active_days = m.active_days + excluded.active_days
	$q$, p_rows);
END
$$;

CREATE FUNCTION aimeter.usage_daily_activity_tg()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM am_daily_new WHERE person_key <> '') THEN
		RETURN NULL;
	END IF;
	CREATE TEMP TABLE IF NOT EXISTS am_act_new (day date, team_id int, tool text,
						    person_key bytea) ON COMMIT DELETE ROWS;
	TRUNCATE am_act_new;
	INSERT INTO am_act_new
	SELECT DISTINCT day, team_id, tool, person_key FROM am_daily_new WHERE person_key <> '';
	PERFORM aimeter.activity_add_from('pg_temp.am_act_new');
	RETURN NULL;
END
$$;
CREATE TRIGGER usage_daily_activity AFTER INSERT ON aimeter.usage_daily
	REFERENCING NEW TABLE AS am_daily_new
	FOR EACH STATEMENT EXECUTE FUNCTION aimeter.usage_daily_activity_tg();

-- Whatever usage_daily already holds.
CREATE TEMP TABLE am_act_init ON COMMIT DROP AS
SELECT DISTINCT day, team_id, tool, person_key FROM aimeter.usage_daily WHERE person_key <> '';
SELECT aimeter.activity_add_from('pg_temp.am_act_init');

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
CREATE TRIGGER period_log_append_only BEFORE UPDATE OR DELETE ON aimeter.period_log
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();

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

CREATE FUNCTION aimeter.is_closed(p_month date)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT EXISTS (SELECT 1 FROM aimeter.accounting_periods
		       WHERE month = date_trunc('month', p_month)::date AND status = 'closed')
$$;

-- aimeter.open_month_after(month): the first month after it that is open.
CREATE FUNCTION aimeter.open_month_after(p_month date)
RETURNS date LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v date := (date_trunc('month', p_month) + interval '1 month')::date;
BEGIN
	WHILE aimeter.is_closed(v) LOOP
		v := (v + interval '1 month')::date;
	END LOOP;
	RETURN v;
END
$$;

-- Row guards on the rollups, installed only while some month is closed
-- and only for rows dated before the end of the latest closed month (a
-- constant in the trigger's WHEN clause, so the write path pays nothing
-- for current data). A change to a closed month's usage_daily becomes a
-- correction row; usage_monthly of a closed month is left alone.
-- `SET LOCAL aimeter.bypass_close = on` (erasure, retention: changes that
-- leave every team total as it was) passes through.
CREATE FUNCTION aimeter.guard_daily_tg()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_day date;
	v_sign int := 1;
	v aimeter.usage_daily;
	o aimeter.usage_daily;
BEGIN
	IF current_setting('aimeter.bypass_close', true) = 'on' THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	IF TG_OP = 'DELETE' THEN
		v := OLD;
		v_sign := -1;
	ELSE
		v := NEW;
	END IF;
	IF TG_OP = 'UPDATE' AND aimeter.is_closed(OLD.day) AND NOT aimeter.is_closed(NEW.day) THEN
		-- Moving a row out of a closed month: book its removal there.
		o := OLD;
		INSERT INTO aimeter.usage_corrections AS c
		VALUES (aimeter.open_month_after(o.day), o.day, o.team_id, o.cost_center_id, o.tool,
			o.model, o.billing_mode, -o.events, -o.input_tokens, -o.output_tokens,
			-o.cache_write_5m_tokens, -o.cache_write_1h_tokens, -o.cache_read_tokens,
			-o.reasoning_tokens, -o.web_search_requests, -o.cost, -o.unpriced_events)
		ON CONFLICT ON CONSTRAINT usage_corrections_pkey DO UPDATE SET
			events = c.events + excluded.events,
			input_tokens = c.input_tokens + excluded.input_tokens,
			output_tokens = c.output_tokens + excluded.output_tokens,
			cache_write_5m_tokens = c.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
			cache_write_1h_tokens = c.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
			cache_read_tokens = c.cache_read_tokens + excluded.cache_read_tokens,
			reasoning_tokens = c.reasoning_tokens + excluded.reasoning_tokens,
			web_search_requests = c.web_search_requests + excluded.web_search_requests,
			cost = c.cost + excluded.cost,
			unpriced_events = c.unpriced_events + excluded.unpriced_events;
		RETURN NEW;
	END IF;
	v_day := v.day;
	IF NOT aimeter.is_closed(v_day) THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		-- The change only: NEW minus OLD, keyed as NEW.
		v.events := NEW.events - OLD.events;
		v.input_tokens := NEW.input_tokens - OLD.input_tokens;
		v.output_tokens := NEW.output_tokens - OLD.output_tokens;
		v.cache_write_5m_tokens := NEW.cache_write_5m_tokens - OLD.cache_write_5m_tokens;
		v.cache_write_1h_tokens := NEW.cache_write_1h_tokens - OLD.cache_write_1h_tokens;
		v.cache_read_tokens := NEW.cache_read_tokens - OLD.cache_read_tokens;
		v.reasoning_tokens := NEW.reasoning_tokens - OLD.reasoning_tokens;
		v.web_search_requests := NEW.web_search_requests - OLD.web_search_requests;
		v.cost := NEW.cost - OLD.cost;
		v.unpriced_events := NEW.unpriced_events - OLD.unpriced_events;
		IF (NEW.day, NEW.team_id, NEW.cost_center_id, NEW.tool, NEW.model, NEW.billing_mode)
		   IS DISTINCT FROM (OLD.day, OLD.team_id, OLD.cost_center_id, OLD.tool, OLD.model,
				     OLD.billing_mode) THEN
			-- Re-keyed: all of OLD leaves, all of NEW arrives.
			o := OLD;
			INSERT INTO aimeter.usage_corrections AS c
			VALUES (aimeter.open_month_after(o.day), o.day, o.team_id, o.cost_center_id,
				o.tool, o.model, o.billing_mode, -o.events, -o.input_tokens,
				-o.output_tokens, -o.cache_write_5m_tokens, -o.cache_write_1h_tokens,
				-o.cache_read_tokens, -o.reasoning_tokens, -o.web_search_requests,
				-o.cost, -o.unpriced_events)
			ON CONFLICT ON CONSTRAINT usage_corrections_pkey DO UPDATE SET
				events = c.events + excluded.events,
				input_tokens = c.input_tokens + excluded.input_tokens,
				output_tokens = c.output_tokens + excluded.output_tokens,
				cache_write_5m_tokens = c.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
				cache_write_1h_tokens = c.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
				cache_read_tokens = c.cache_read_tokens + excluded.cache_read_tokens,
				reasoning_tokens = c.reasoning_tokens + excluded.reasoning_tokens,
				web_search_requests = c.web_search_requests + excluded.web_search_requests,
				cost = c.cost + excluded.cost,
				unpriced_events = c.unpriced_events + excluded.unpriced_events;
			v := NEW;
		END IF;
	END IF;
	INSERT INTO aimeter.usage_corrections AS c
	VALUES (aimeter.open_month_after(v.day), v.day, v.team_id, v.cost_center_id, v.tool,
		v.model, v.billing_mode, v_sign * v.events, v_sign * v.input_tokens,
		v_sign * v.output_tokens, v_sign * v.cache_write_5m_tokens,
		v_sign * v.cache_write_1h_tokens, v_sign * v.cache_read_tokens,
		v_sign * v.reasoning_tokens, v_sign * v.web_search_requests, v_sign * v.cost,
		v_sign * v.unpriced_events)
	ON CONFLICT ON CONSTRAINT usage_corrections_pkey DO UPDATE SET
		events = c.events + excluded.events,
		input_tokens = c.input_tokens + excluded.input_tokens,
		output_tokens = c.output_tokens + excluded.output_tokens,
		cache_write_5m_tokens = c.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
		cache_write_1h_tokens = c.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
		cache_read_tokens = c.cache_read_tokens + excluded.cache_read_tokens,
		reasoning_tokens = c.reasoning_tokens + excluded.reasoning_tokens,
		web_search_requests = c.web_search_requests + excluded.web_search_requests,
		cost = c.cost + excluded.cost,
		unpriced_events = c.unpriced_events + excluded.unpriced_events;
	RETURN NULL; -- the closed month's row stays as it was
END
$$;

CREATE FUNCTION aimeter.guard_monthly_tg()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF current_setting('aimeter.bypass_close', true) = 'on' THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	IF (TG_OP <> 'INSERT' AND aimeter.is_closed(OLD.month))
	   OR (TG_OP <> 'DELETE' AND aimeter.is_closed(NEW.month)) THEN
		RETURN NULL; -- booked as a correction by the usage_daily guard
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

-- aimeter.close_guards_refresh(): (re)install the guards with the current
-- watermark. CREATE TRIGGER locks the rollups against writers, so a close
-- sees no ingest half-way.
CREATE FUNCTION aimeter.close_guards_refresh()
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_end date;
BEGIN
	SELECT (max(month) + interval '1 month')::date INTO v_end
	  FROM aimeter.accounting_periods WHERE status = 'closed';
	DROP TRIGGER IF EXISTS guard_closed_ins ON aimeter.usage_daily;
	DROP TRIGGER IF EXISTS guard_closed_upd ON aimeter.usage_daily;
	DROP TRIGGER IF EXISTS guard_closed_del ON aimeter.usage_daily;
	DROP TRIGGER IF EXISTS guard_closed_ins ON aimeter.usage_monthly;
	DROP TRIGGER IF EXISTS guard_closed_upd ON aimeter.usage_monthly;
	DROP TRIGGER IF EXISTS guard_closed_del ON aimeter.usage_monthly;
	IF v_end IS NULL THEN
		RETURN;
	END IF;
	EXECUTE format('CREATE TRIGGER guard_closed_ins BEFORE INSERT ON aimeter.usage_daily '
		       'FOR EACH ROW WHEN (NEW.day < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_daily_tg()', v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_upd BEFORE UPDATE ON aimeter.usage_daily '
		       'FOR EACH ROW WHEN (OLD.day < %L::date OR NEW.day < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_daily_tg()', v_end, v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_del BEFORE DELETE ON aimeter.usage_daily '
		       'FOR EACH ROW WHEN (OLD.day < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_daily_tg()', v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_ins BEFORE INSERT ON aimeter.usage_monthly '
		       'FOR EACH ROW WHEN (NEW.month < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_monthly_tg()', v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_upd BEFORE UPDATE ON aimeter.usage_monthly '
		       'FOR EACH ROW WHEN (OLD.month < %L::date OR NEW.month < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_monthly_tg()', v_end, v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_del BEFORE DELETE ON aimeter.usage_monthly '
		       'FOR EACH ROW WHEN (OLD.month < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_monthly_tg()', v_end);
END
$$;
