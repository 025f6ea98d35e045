-- 0103_gates_privacy.sql (issue 7): stage-gate initiatives, stalled
-- investment signals, per-person export and erasure, retention, grants.
-- See docs/reports-finance.md.

-- ---------------------------------------------------------------------------
-- Stage-gate initiatives. Criteria are written once (append-only) and carry
-- when they were set, so "set before the pilot started" can be checked.
CREATE TABLE aimeter.initiatives (
	initiative_id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL UNIQUE CHECK (name <> ''),
	owner text NOT NULL CHECK (owner <> ''),
	value_category text NOT NULL CHECK (value_category IN
		('cost_reduction', 'revenue_growth', 'risk_avoidance', 'product_embedding')),
	scope_teams text[] NOT NULL DEFAULT '{}',
	scope_tools text[] NOT NULL DEFAULT '{}',
	scope_projects text[] NOT NULL DEFAULT '{}',
	start_date date NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE aimeter.initiative_criteria (
	initiative_id int NOT NULL REFERENCES aimeter.initiatives ON DELETE CASCADE,
	kind text NOT NULL CHECK (kind IN ('target', 'kill')),
	metric text NOT NULL CHECK (metric IN
		('active_people', 'active_share', 'events', 'cost', 'cost_per_active_person')),
	comparator text NOT NULL CHECK (comparator IN ('>=', '>', '<=', '<', '=')),
	target numeric NOT NULL,
	due date NOT NULL,
	set_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (initiative_id, kind)
);
CREATE TRIGGER initiative_criteria_append_only BEFORE UPDATE ON aimeter.initiative_criteria
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();

-- "metric op value by YYYY-MM-DD" -> its parts; raises on anything else.
CREATE FUNCTION aimeter.parse_criterion(p text, OUT metric text, OUT comparator text,
					OUT target numeric, OUT due date)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	m text[];
BEGIN
	m := regexp_match(p, '^\s*([a-z_]+)\s*(>=|<=|>|<|=)\s*([0-9]+(\.[0-9]+)?)\s+by\s+([0-9]{4}-[0-9]{2}-[0-9]{2})\s*$');
	IF m IS NULL THEN
		RAISE EXCEPTION 'criterion "%" is not "METRIC OP NUMBER by YYYY-MM-DD"', p
			USING ERRCODE = '22023';
	END IF;
	IF m[1] NOT IN ('active_people', 'active_share', 'events', 'cost', 'cost_per_active_person') THEN
		RAISE EXCEPTION 'unknown metric "%": active_people, active_share, events, cost or cost_per_active_person', m[1]
			USING ERRCODE = '22023';
	END IF;
	metric := m[1];
	comparator := m[2];
	target := m[3]::numeric;
	due := m[5]::date;
END
$$;

CREATE FUNCTION aimeter.initiative_add(p_name text, p_owner text, p_category text,
				       p_teams text[], p_tools text[], p_projects text[],
				       p_start date, p_target text, p_kill text)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_id int;
	v_bad text;
	c record;
BEGIN
	SELECT string_agg(x, ', ') INTO v_bad FROM unnest(p_teams) x
	 WHERE NOT EXISTS (SELECT 1 FROM aimeter.teams t WHERE t.name = x);
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown team(s): %', v_bad USING ERRCODE = '22023';
	END IF;
	SELECT string_agg(x, ', ') INTO v_bad FROM unnest(p_tools) x
	 WHERE NOT EXISTS (SELECT 1 FROM aimeter.tools t WHERE t.tool = x);
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown tool(s): %', v_bad USING ERRCODE = '22023';
	END IF;
	INSERT INTO aimeter.initiatives (name, owner, value_category, scope_teams, scope_tools,
					 scope_projects, start_date)
	VALUES (p_name, p_owner, p_category, coalesce(p_teams, '{}'), coalesce(p_tools, '{}'),
		coalesce(p_projects, '{}'), p_start)
	RETURNING initiative_id INTO v_id;
	c := aimeter.parse_criterion(p_target);
	IF c.due <= p_start THEN
		RAISE EXCEPTION 'the target date must be after the start' USING ERRCODE = '22023';
	END IF;
	INSERT INTO aimeter.initiative_criteria VALUES (v_id, 'target', c.metric, c.comparator,
							c.target, c.due);
	c := aimeter.parse_criterion(p_kill);
	IF c.due <= p_start THEN
		RAISE EXCEPTION 'the kill date must be after the start' USING ERRCODE = '22023';
	END IF;
	INSERT INTO aimeter.initiative_criteria VALUES (v_id, 'kill', c.metric, c.comparator,
							c.target, c.due);
	RETURN v_id;
END
$$;

-- The scope's metrics over the 28 days before p_end: [p_end - 28, p_end).
CREATE FUNCTION aimeter.initiative_metrics(p_id int, p_end date,
	OUT active_people bigint, OUT headcount bigint, OUT events bigint, OUT cost numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	i aimeter.initiatives;
	v_teams int[];
BEGIN
	SELECT * INTO i FROM aimeter.initiatives WHERE initiative_id = p_id;
	SELECT array_agg(team_id) INTO v_teams FROM aimeter.teams WHERE name = ANY (i.scope_teams);
	IF cardinality(i.scope_projects) = 0 THEN
		SELECT count(DISTINCT d.person_key) FILTER (WHERE d.person_key <> ''),
		       coalesce(sum(d.events), 0), coalesce(sum(d.cost), 0)
		  INTO active_people, events, cost
		  FROM aimeter.usage_daily d
		 WHERE d.day >= p_end - 28 AND d.day < p_end
		   AND (v_teams IS NULL OR d.team_id = ANY (v_teams))
		   AND (cardinality(i.scope_tools) = 0 OR d.tool = ANY (i.scope_tools));
	ELSE
		SELECT count(DISTINCT e.person_key), count(*), coalesce(sum(e.cost), 0)
		  INTO active_people, events, cost
		  FROM aimeter.usage_events e
		 WHERE e.ts >= (p_end - 28)::timestamp AT TIME ZONE 'UTC'
		   AND e.ts < p_end::timestamp AT TIME ZONE 'UTC'
		   AND e.project = ANY (i.scope_projects)
		   AND (v_teams IS NULL OR e.team_id = ANY (v_teams))
		   AND (cardinality(i.scope_tools) = 0 OR e.tool = ANY (i.scope_tools));
	END IF;
	SELECT count(*) INTO headcount FROM aimeter.memberships m
	 WHERE (v_teams IS NULL OR m.team_id = ANY (v_teams))
	   AND m.valid_from <= p_end - 1 AND (m.valid_to IS NULL OR p_end - 1 < m.valid_to);
END
$$;

CREATE FUNCTION aimeter.initiative_value(p_id int, p_metric text, p_end date)
RETURNS numeric LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE p_metric
		WHEN 'active_people' THEN m.active_people::numeric
		WHEN 'active_share' THEN round(m.active_people::numeric / nullif(m.headcount, 0), 4)
		WHEN 'events' THEN m.events::numeric
		WHEN 'cost' THEN m.cost
		WHEN 'cost_per_active_person' THEN m.cost / nullif(m.active_people, 0)
	       END
	  FROM aimeter.initiative_metrics(p_id, p_end) m
$$;

CREATE FUNCTION aimeter.compare(p_value numeric, p_op text, p_target numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_op WHEN '>=' THEN p_value >= p_target WHEN '>' THEN p_value > p_target
			 WHEN '<=' THEN p_value <= p_target WHEN '<' THEN p_value < p_target
			 WHEN '=' THEN p_value = p_target END
$$;

-- aimeter.initiative_status(as_of): on_track, at_risk or kill per initiative.
--   kill      the kill criterion holds on or after its date, or the target
--             was missed at its date
--   on_track  the target holds (over the 28 days before min(as_of, date)),
--             or, for >= and >, the value is on pace: at least target x the
--             elapsed share of [start, date)
--   at_risk   otherwise, and whenever the kill criterion holds before its date
CREATE FUNCTION aimeter.initiative_status(p_as_of date)
RETURNS TABLE (initiative text, owner text, value_category text, start_date date,
	       criteria_set_before_start boolean, metric text, comparator text,
	       target numeric, due date, value numeric, kill_metric text,
	       kill_comparator text, kill_target numeric, kill_due date, kill_value numeric,
	       status text, reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	i record;
	v_met boolean;
	v_kill boolean;
	v_pace numeric;
BEGIN
	FOR i IN
		SELECT n.*, t.metric AS t_metric, t.comparator AS t_op, t.target AS t_target,
		       t.due AS t_due, t.set_at AS t_set, k.metric AS k_metric,
		       k.comparator AS k_op, k.target AS k_target, k.due AS k_due, k.set_at AS k_set
		  FROM aimeter.initiatives n
		  JOIN aimeter.initiative_criteria t ON t.initiative_id = n.initiative_id AND t.kind = 'target'
		  JOIN aimeter.initiative_criteria k ON k.initiative_id = n.initiative_id AND k.kind = 'kill'
		 ORDER BY n.name
	LOOP
		initiative := i.name;
		owner := i.owner;
		value_category := i.value_category;
		start_date := i.start_date;
		criteria_set_before_start := greatest(i.t_set, i.k_set)
			< i.start_date::timestamp AT TIME ZONE 'UTC';
		metric := i.t_metric;
		comparator := i.t_op;
		target := i.t_target;
		due := i.t_due;
		kill_metric := i.k_metric;
		kill_comparator := i.k_op;
		kill_target := i.k_target;
		kill_due := i.k_due;
		value := aimeter.initiative_value(i.initiative_id, i.t_metric, least(p_as_of, i.t_due));
		kill_value := aimeter.initiative_value(i.initiative_id, i.k_metric, p_as_of);
		v_met := coalesce(aimeter.compare(value, i.t_op, i.t_target), false);
		v_kill := coalesce(aimeter.compare(kill_value, i.k_op, i.k_target), false);
		IF p_as_of >= i.k_due AND v_kill THEN
			status := 'kill';
			reason := 'kill criterion met';
		ELSIF p_as_of >= i.t_due AND NOT v_met THEN
			status := 'kill';
			reason := 'target missed at its date';
		ELSIF v_kill THEN
			status := 'at_risk';
			reason := 'kill criterion holds before its date';
		ELSIF v_met THEN
			status := 'on_track';
			reason := CASE WHEN p_as_of >= i.t_due THEN 'target met at its date'
				       ELSE 'target met' END;
		ELSE
			v_pace := CASE WHEN p_as_of <= i.start_date THEN 0
				       ELSE (p_as_of - i.start_date)::numeric / (i.t_due - i.start_date) END;
			IF i.t_op IN ('>=', '>') AND coalesce(value, 0) >= i.t_target * v_pace THEN
				status := 'on_track';
				reason := 'on pace for the target';
			ELSE
				status := 'at_risk';
				reason := 'behind the target''s pace';
			END IF;
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;
CREATE VIEW reporting.initiative_status AS
SELECT * FROM aimeter.initiative_status(current_date);

-- ---------------------------------------------------------------------------
-- Stalled investment as of a day, over complete ISO weeks before it:
--   active_share_falling         weekly active share fell two weeks running
--   spend_rising_active_falling  last week: more usage cost, fewer active people
--   seats_idle                   assigned seats with no use for 14 days or more
-- Teams below the minimum group size are left out.
CREATE FUNCTION aimeter.stalled_signals(p_as_of date)
RETURNS TABLE (signal text, team text, subscription text, week text, detail jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH w AS (
		SELECT date_trunc('week', p_as_of)::date - 7 AS w1,
		       date_trunc('week', p_as_of)::date - 14 AS w2,
		       date_trunc('week', p_as_of)::date - 21 AS w3
	), act AS (
		SELECT a.week, a.team_id, count(*) AS active
		  FROM aimeter.activity_weekly a, w
		 WHERE a.tool = '*' AND a.week IN (w.w1, w.w2, w.w3)
		 GROUP BY 1, 2
	), spend AS (
		SELECT date_trunc('week', d.day)::date AS week, d.team_id, sum(d.cost) AS cost
		  FROM aimeter.usage_daily d, w
		 WHERE d.day >= w.w2 AND d.day < w.w1 + 7
		 GROUP BY 1, 2
	), teams AS (
		SELECT DISTINCT team_id FROM act
	), g AS (
		SELECT t.team_id, tm.name,
		       coalesce(a1.active, 0) AS a1, coalesce(a2.active, 0) AS a2,
		       coalesce(a3.active, 0) AS a3,
		       aimeter.team_headcount(t.team_id, w.w1 + 6) AS h1,
		       aimeter.team_headcount(t.team_id, w.w2 + 6) AS h2,
		       aimeter.team_headcount(t.team_id, w.w3 + 6) AS h3,
		       coalesce(s1.cost, 0) AS c1, coalesce(s2.cost, 0) AS c2,
		       to_char(w.w1, 'IYYY-"W"IW') AS wk
		  FROM teams t CROSS JOIN w
		  JOIN aimeter.teams tm ON tm.team_id = t.team_id
		  LEFT JOIN act a1 ON a1.team_id = t.team_id AND a1.week = w.w1
		  LEFT JOIN act a2 ON a2.team_id = t.team_id AND a2.week = w.w2
		  LEFT JOIN act a3 ON a3.team_id = t.team_id AND a3.week = w.w3
		  LEFT JOIN spend s1 ON s1.team_id = t.team_id AND s1.week = w.w1
		  LEFT JOIN spend s2 ON s2.team_id = t.team_id AND s2.week = w.w2
	), ok AS (
		SELECT g.* FROM g CROSS JOIN aimeter.settings s
		 WHERE greatest(g.h1, g.a1, g.a2) >= s.min_group_size
	)
	SELECT 'active_share_falling', ok.name, NULL::text, ok.wk,
	       jsonb_build_object('share', jsonb_build_array(
		       round(ok.a3::numeric / ok.h3, 4), round(ok.a2::numeric / ok.h2, 4),
		       round(ok.a1::numeric / ok.h1, 4)))
	  FROM ok
	 WHERE ok.h1 > 0 AND ok.h2 > 0 AND ok.h3 > 0
	   AND ok.a1::numeric / ok.h1 < ok.a2::numeric / ok.h2
	   AND ok.a2::numeric / ok.h2 < ok.a3::numeric / ok.h3
	UNION ALL
	SELECT 'spend_rising_active_falling', ok.name, NULL, ok.wk,
	       jsonb_build_object('cost', jsonb_build_array(round(ok.c2, 6), round(ok.c1, 6)),
				  'active_people', jsonb_build_array(ok.a2, ok.a1))
	  FROM ok
	 WHERE ok.c1 > ok.c2 AND ok.a1 < ok.a2
	UNION ALL
	SELECT 'seats_idle', NULL, u.subscription, to_char(p_as_of, 'YYYY-MM-DD'),
	       jsonb_build_object('idle_14d', u.idle_14d, 'assigned', u.assigned,
				  'unassigned', u.unassigned, 'seats', u.seats)
	  FROM aimeter.seat_utilisation(p_as_of) u
	 WHERE u.idle_14d > 0
$$;
CREATE VIEW reporting.stalled_signals AS
SELECT * FROM aimeter.stalled_signals(current_date);

-- ---------------------------------------------------------------------------
-- GDPR: the keys that stand for a person: the given identity's HMAC, its
-- person's key and every identity HMAC of that person.
CREATE FUNCTION aimeter.person_keys(p_hmac bytea, OUT person_id bigint, OUT keys bytea[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT i.person_id,
	       ARRAY(SELECT DISTINCT k FROM (
			SELECT p_hmac AS k
			UNION ALL SELECT p.person_key FROM aimeter.people p WHERE p.person_id = i.person_id
			UNION ALL SELECT x.identity_hmac FROM aimeter.identities x
				   WHERE x.person_id = i.person_id) s)
	  FROM (SELECT 1) one
	  LEFT JOIN aimeter.identities i ON i.identity_hmac = p_hmac
$$;

-- aimeter.person_export(identity_hmac): everything stored about the person
-- (Art. 15), as JSON; audited.
CREATE FUNCTION aimeter.person_export(p_hmac bytea)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k record;
	v jsonb;
BEGIN
	k := aimeter.person_keys(p_hmac);
	SELECT jsonb_build_object(
		'generated_at', now(),
		'purpose', (SELECT processing_purpose FROM aimeter.settings),
		'identity_hmac', encode(p_hmac, 'hex'),
		'person', (SELECT jsonb_build_object('person_key', encode(p.person_key, 'hex'),
						     'label', p.label, 'created_at', p.created_at)
			     FROM aimeter.people p WHERE p.person_id = k.person_id),
		'identities', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'identity', x.identity, 'identity_hmac', encode(x.identity_hmac, 'hex'))
				ORDER BY x.identity)
			FROM aimeter.identities x WHERE x.person_id = k.person_id), '[]'),
		'memberships', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'team', t.name, 'cost_center', c.code, 'valid_from', m.valid_from,
				'valid_to', m.valid_to) ORDER BY m.valid_from)
			FROM aimeter.memberships m JOIN aimeter.teams t ON t.team_id = m.team_id
			LEFT JOIN aimeter.cost_centers c ON c.cost_center_id = m.cost_center_id
			WHERE m.person_id = k.person_id), '[]'),
		'seat_assignments', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'subscription', s.name, 'vendor', s.vendor, 'plan', s.plan,
				'valid_from', a.valid_from, 'valid_to', a.valid_to) ORDER BY a.valid_from)
			FROM aimeter.seat_assignments a
			JOIN aimeter.subscriptions s ON s.subscription_id = a.subscription_id
			WHERE a.person_id = k.person_id), '[]'),
		'usage_events', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'event_id', encode(e.event_id, 'hex'), 'ts', e.ts, 'tool', e.tool,
				'model', e.model, 'session', e.session, 'project', e.project,
				'team', t.name, 'billing_mode', e.billing_mode,
				'input_tokens', e.input_tokens, 'output_tokens', e.output_tokens,
				'cache_write_5m_tokens', e.cache_write_5m_tokens,
				'cache_write_1h_tokens', e.cache_write_1h_tokens,
				'cache_read_tokens', e.cache_read_tokens,
				'reasoning_tokens', e.reasoning_tokens,
				'web_search_requests', e.web_search_requests, 'cost', e.cost)
				ORDER BY e.ts, e.event_id)
			FROM aimeter.usage_events e JOIN aimeter.teams t ON t.team_id = e.team_id
			WHERE e.person_key = ANY (k.keys)), '[]'),
		'usage_daily', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'day', d.day, 'team', t.name, 'tool', d.tool, 'model', d.model,
				'billing_mode', d.billing_mode, 'events', d.events, 'cost', d.cost)
				ORDER BY d.day, d.tool, d.model)
			FROM aimeter.usage_daily d JOIN aimeter.teams t ON t.team_id = d.team_id
			WHERE d.person_key = ANY (k.keys)), '[]'),
		'first_last_seen', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'tool', s.tool, 'first_seen', s.first_day, 'last_seen', s.last_day)
				ORDER BY s.tool)
			FROM aimeter.activity_seen s
			WHERE s.person_key = ANY (k.keys) AND s.tool <> '*'), '[]'),
		'activity_days', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'day', a.day, 'team', t.name, 'tool', a.tool) ORDER BY a.day, a.tool)
			FROM aimeter.activity_daily a JOIN aimeter.teams t ON t.team_id = a.team_id
			WHERE a.person_key = ANY (k.keys) AND a.tool <> '*'), '[]'),
		'erased', EXISTS (SELECT 1 FROM aimeter.erased_identities x
				   WHERE x.identity_hmac = p_hmac))
	  INTO v;
	PERFORM aimeter.audit('person_export', encode(p_hmac, 'hex'),
			      jsonb_build_object('events', jsonb_array_length(v->'usage_events')));
	RETURN v;
END
$$;

-- aimeter.person_forget(identity_hmac): erasure (Art. 17). The identities go,
-- the person key becomes a random one everywhere (events, rollups, the
-- people row, which keeps memberships so team sizes stay), and events of
-- these identities dated before now are refused from then on. Team totals
-- do not change. Audited.
CREATE FUNCTION aimeter.person_forget(p_hmac bytea)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k record;
	v_new bytea := uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());
	v_events bigint;
	v_rows bigint;
BEGIN
	PERFORM set_config('aimeter.bypass_close', 'on', true);
	k := aimeter.person_keys(p_hmac);

	UPDATE aimeter.usage_events SET person_key = v_new WHERE person_key = ANY (k.keys);
	GET DIAGNOSTICS v_events = ROW_COUNT;

	WITH del AS (
		DELETE FROM aimeter.usage_daily WHERE person_key = ANY (k.keys) RETURNING *
	)
	INSERT INTO aimeter.usage_daily
	SELECT day, v_new, team_id, cost_center_id, tool, model, billing_mode, sum(events),
	       sum(input_tokens), sum(output_tokens), sum(cache_write_5m_tokens),
	       sum(cache_write_1h_tokens), sum(cache_read_tokens), sum(reasoning_tokens),
	       sum(web_search_requests), sum(cost), sum(unpriced_events)
	  FROM del GROUP BY day, team_id, cost_center_id, tool, model, billing_mode;
	GET DIAGNOSTICS v_rows = ROW_COUNT;
	-- The insert above re-created the activity under the new key.
	DELETE FROM aimeter.activity_daily WHERE person_key = ANY (k.keys);
	DELETE FROM aimeter.activity_weekly WHERE person_key = ANY (k.keys);
	DELETE FROM aimeter.activity_monthly WHERE person_key = ANY (k.keys);
	DELETE FROM aimeter.activity_seen WHERE person_key = ANY (k.keys);

	INSERT INTO aimeter.erased_identities (identity_hmac, erased_at)
	SELECT x, now() FROM unnest(k.keys) x
	ON CONFLICT (identity_hmac) DO UPDATE SET erased_at = greatest(
		aimeter.erased_identities.erased_at, excluded.erased_at);
	DELETE FROM aimeter.identities WHERE person_id = k.person_id OR identity_hmac = ANY (k.keys);
	UPDATE aimeter.people SET person_key = v_new, label = 'erased-' || person_id
	 WHERE person_id = k.person_id;

	PERFORM aimeter.audit('person_forget', encode(p_hmac, 'hex'),
			      jsonb_build_object('events', v_events, 'rollup_rows', v_rows,
						 'person_found', k.person_id IS NOT NULL));
	RETURN jsonb_build_object('events', v_events, 'rollup_rows', v_rows,
				  'person_found', k.person_id IS NOT NULL);
END
$$;

-- aimeter.retention_apply(raw_months, person_months): drop raw partitions
-- wholly older than raw_months before this month, fold per-person rollups
-- older than person_months into team rollups (activity becomes team counts
-- in activity_team_archive), and refuse events beyond the raw horizon from
-- now on. NULL arguments take the settings. Audited.
CREATE FUNCTION aimeter.retention_apply(p_raw_months int, p_person_months int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_raw int;
	v_person int;
	v_this date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
	v_raw_cut date;
	v_person_cut date;
	v_part record;
	v_dropped text[] := '{}';
	v_folded bigint;
BEGIN
	SELECT coalesce(p_raw_months, retention_raw_months),
	       coalesce(p_person_months, retention_person_months)
	  INTO v_raw, v_person FROM aimeter.settings;
	IF v_raw < 1 OR v_person < 1 THEN
		RAISE EXCEPTION 'retention is at least one month' USING ERRCODE = '22023';
	END IF;
	PERFORM set_config('aimeter.bypass_close', 'on', true);
	v_raw_cut := (v_this - make_interval(months => v_raw))::date;
	v_person_cut := (v_this - make_interval(months => v_person))::date;

	UPDATE aimeter.settings SET retention_raw_months = v_raw, retention_person_months = v_person,
	       backfill_horizon_months = least(backfill_horizon_months, v_raw);

	FOR v_part IN
		SELECT c.relname, to_date(substr(c.relname, 14), 'YYYYMM') AS month
		  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = 'aimeter.usage_events'::regclass
		   AND c.relname ~ '^usage_events_[0-9]{6}$'
		 ORDER BY 1
	LOOP
		IF (v_part.month + interval '1 month')::date <= v_raw_cut THEN
			EXECUTE format('DROP TABLE aimeter.%I', v_part.relname);
			v_dropped := v_dropped || v_part.relname::text;
		END IF;
	END LOOP;

	WITH del AS (
		DELETE FROM aimeter.usage_daily WHERE day < v_person_cut AND person_key <> ''
		RETURNING *
	)
	INSERT INTO aimeter.usage_daily AS d
	SELECT day, ''::bytea, team_id, cost_center_id, tool, model, billing_mode, sum(events),
	       sum(input_tokens), sum(output_tokens), sum(cache_write_5m_tokens),
	       sum(cache_write_1h_tokens), sum(cache_read_tokens), sum(reasoning_tokens),
	       sum(web_search_requests), sum(cost), sum(unpriced_events)
	  FROM del GROUP BY day, team_id, cost_center_id, tool, model, billing_mode
	ON CONFLICT (day, person_key, team_id, cost_center_id, tool, model, billing_mode)
	DO UPDATE SET events = d.events + excluded.events,
		input_tokens = d.input_tokens + excluded.input_tokens,
		output_tokens = d.output_tokens + excluded.output_tokens,
		cache_write_5m_tokens = d.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
		cache_write_1h_tokens = d.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
		cache_read_tokens = d.cache_read_tokens + excluded.cache_read_tokens,
		reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
		web_search_requests = d.web_search_requests + excluded.web_search_requests,
		cost = d.cost + excluded.cost,
		unpriced_events = d.unpriced_events + excluded.unpriced_events;
	GET DIAGNOSTICS v_folded = ROW_COUNT;

	INSERT INTO aimeter.activity_team_archive AS a
	SELECT 'month', month, team_id, tool, count(*), sum(active_days)
	  FROM aimeter.activity_monthly WHERE month < v_person_cut GROUP BY 2, 3, 4
	ON CONFLICT (period_kind, period, team_id, tool) DO UPDATE
		SET active_people = a.active_people + excluded.active_people,
		    person_days = a.person_days + excluded.person_days;
	INSERT INTO aimeter.activity_team_archive AS a
	SELECT 'week', week, team_id, tool, count(*), sum(active_days)
	  FROM aimeter.activity_weekly WHERE week + 7 <= v_person_cut GROUP BY 2, 3, 4
	ON CONFLICT (period_kind, period, team_id, tool) DO UPDATE
		SET active_people = a.active_people + excluded.active_people,
		    person_days = a.person_days + excluded.person_days;
	DELETE FROM aimeter.activity_monthly WHERE month < v_person_cut;
	DELETE FROM aimeter.activity_weekly WHERE week + 7 <= v_person_cut;
	DELETE FROM aimeter.activity_daily WHERE day < v_person_cut;
	-- First and last seen survive only for people active since the cutoff,
	-- and no earlier than it.
	DELETE FROM aimeter.activity_seen WHERE last_day < v_person_cut;
	UPDATE aimeter.activity_seen SET first_day = v_person_cut WHERE first_day < v_person_cut;

	PERFORM aimeter.audit('retention_apply', NULL,
			      jsonb_build_object('raw_months', v_raw, 'person_months', v_person,
						 'dropped', to_jsonb(v_dropped),
						 'folded_rollup_rows', v_folded));
	RETURN jsonb_build_object('raw_months', v_raw, 'person_months', v_person,
				  'raw_cutoff', v_raw_cut, 'person_cutoff', v_person_cut,
				  'dropped', to_jsonb(v_dropped), 'folded_rollup_rows', v_folded);
END
$$;

-- ---------------------------------------------------------------------------
-- What aimeter_reader may call (it has no USAGE on schema aimeter): the
-- person-free report functions, as of a day, and an audit entry for exports.
CREATE FUNCTION reporting.adoption_summary(p_kind text, p_period date)
RETURNS TABLE (team text, headcount bigint, active_people bigint, active_share numeric,
	       person_days bigint, new_people bigint, returning_people bigint,
	       retained_people bigint, churned_people bigint, light bigint, moderate bigint,
	       heavy bigint, inactive bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM aimeter.adoption_summary(p_kind, p_period)
$$;
CREATE FUNCTION reporting.stalled_signals_as_of(p_as_of date)
RETURNS TABLE (signal text, team text, subscription text, week text, detail jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM aimeter.stalled_signals(p_as_of)
$$;
CREATE FUNCTION reporting.seat_utilisation_as_of(p_as_of date)
RETURNS TABLE (subscription text, vendor text, plan text, tool text, seats int,
	       assigned bigint, unassigned bigint, active_28d bigint, idle_14d bigint,
	       utilisation numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM aimeter.seat_utilisation(p_as_of)
$$;
CREATE FUNCTION reporting.initiative_status_as_of(p_as_of date)
RETURNS TABLE (initiative text, owner text, value_category text, start_date date,
	       criteria_set_before_start boolean, metric text, comparator text,
	       target numeric, due date, value numeric, kill_metric text,
	       kill_comparator text, kill_target numeric, kill_due date, kill_value numeric,
	       status text, reason text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM aimeter.initiative_status(p_as_of)
$$;
CREATE FUNCTION reporting.log_export(p_kind text, p_subject text, p_detail jsonb)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT aimeter.audit('export_' || p_kind, p_subject, p_detail)
$$;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA reporting FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA reporting TO aimeter_reader;

-- ---------------------------------------------------------------------------
-- Privileges for everything issue 7 added.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA aimeter FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.team_headcount(int, date), aimeter.seat_cost(int, date, date),
	aimeter.seat_utilisation(date), aimeter.vendor_name(text, text, text),
	aimeter.adoption_summary(text, date), aimeter.initiative_status(date),
	aimeter.stalled_signals(date)
	TO aimeter_reader;
GRANT USAGE ON SCHEMA reporting TO aimeter_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO aimeter_reader;
GRANT ALL ON ALL TABLES IN SCHEMA aimeter TO aimeter_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA aimeter TO aimeter_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA aimeter TO aimeter_admin;
-- The collector's role runs the write path, which now feeds activity and
-- the close guard (both SECURITY DEFINER); nothing else changes for it.
GRANT EXECUTE ON FUNCTION aimeter.ingest_staged(), aimeter.enroll_device(bytea, text, text, text, bytea)
	TO aimeter_ingest;
