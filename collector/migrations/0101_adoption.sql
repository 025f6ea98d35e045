-- 0101_adoption.sql (issue 7): adoption views over the activity rollups.
-- Readable by aimeter_reader: no person key, no identity, and no row of a
-- team smaller than aimeter.settings.min_group_size (team size = its
-- headcount at the period's end, or the people active in it, whichever is
-- larger). See docs/reports-finance.md for definitions and example queries.

-- Team size as of a day (memberships valid that day).
CREATE FUNCTION aimeter.team_headcount(p_team int, p_day date)
RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT count(*) FROM aimeter.memberships m
	 WHERE m.team_id = p_team AND m.valid_from <= p_day
	   AND (m.valid_to IS NULL OR p_day < m.valid_to)
$$;

-- Daily active people per team and tool ('all' = any tool).
CREATE VIEW reporting.adoption_daily AS
SELECT a.day, t.name AS team, CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       a.active_people, hc.headcount,
       round(a.active_people::numeric / nullif(hc.headcount, 0), 4) AS active_share
  FROM (SELECT day, team_id, tool, count(*) AS active_people
	  FROM aimeter.activity_daily GROUP BY 1, 2, 3) a
  JOIN (SELECT day, team_id, count(*) AS n
	  FROM aimeter.activity_daily WHERE tool = '*' GROUP BY 1, 2) g
    ON g.day = a.day AND g.team_id = a.team_id
  JOIN aimeter.teams t ON t.team_id = a.team_id
 CROSS JOIN LATERAL (SELECT aimeter.team_headcount(a.team_id, a.day) AS headcount) hc
 CROSS JOIN aimeter.settings s
 WHERE greatest(hc.headcount, g.n) >= s.min_group_size;

-- Weekly (ISO weeks, Monday to Sunday) active people per team and tool.
CREATE VIEW reporting.adoption_weekly AS
SELECT to_char(a.week, 'IYYY-"W"IW') AS iso_week, a.week AS week_start, t.name AS team,
       CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       a.active_people, a.person_days, hc.headcount,
       round(a.active_people::numeric / nullif(hc.headcount, 0), 4) AS active_share
  FROM (SELECT week, team_id, tool, count(*) AS active_people, sum(active_days) AS person_days
	  FROM aimeter.activity_weekly GROUP BY 1, 2, 3) a
  JOIN (SELECT week, team_id, count(*) AS n
	  FROM aimeter.activity_weekly WHERE tool = '*' GROUP BY 1, 2) g
    ON g.week = a.week AND g.team_id = a.team_id
  JOIN aimeter.teams t ON t.team_id = a.team_id
 CROSS JOIN LATERAL (SELECT aimeter.team_headcount(a.team_id, a.week + 6) AS headcount) hc
 CROSS JOIN aimeter.settings s
 WHERE greatest(hc.headcount, g.n) >= s.min_group_size;

-- Monthly active people per team and tool; stickiness = average daily
-- active people / monthly active people.
CREATE VIEW reporting.adoption_monthly AS
SELECT to_char(a.month, 'YYYY-MM') AS month_label, a.month, t.name AS team,
       CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       a.active_people, a.person_days, hc.headcount,
       round(a.active_people::numeric / nullif(hc.headcount, 0), 4) AS active_share,
       round(a.person_days::numeric
	     / extract(day FROM a.month + interval '1 month' - a.month)::numeric
	     / a.active_people, 4) AS stickiness
  FROM (SELECT month, team_id, tool, count(*) AS active_people, sum(active_days) AS person_days
	  FROM aimeter.activity_monthly GROUP BY 1, 2, 3) a
  JOIN (SELECT month, team_id, count(*) AS n
	  FROM aimeter.activity_monthly WHERE tool = '*' GROUP BY 1, 2) g
    ON g.month = a.month AND g.team_id = a.team_id
  JOIN aimeter.teams t ON t.team_id = a.team_id
 CROSS JOIN LATERAL (SELECT aimeter.team_headcount(a.team_id,
			(a.month + interval '1 month' - interval '1 day')::date) AS headcount) hc
 CROSS JOIN aimeter.settings s
 WHERE greatest(hc.headcount, g.n) >= s.min_group_size;

-- Company-wide active people per tool (a person counted once across
-- teams); rows with fewer active people than the minimum group size are
-- left out.
CREATE VIEW reporting.adoption_weekly_by_tool AS
SELECT to_char(a.week, 'IYYY-"W"IW') AS iso_week, a.week AS week_start,
       CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       count(DISTINCT a.person_key) AS active_people, sum(a.active_days) AS person_days
  FROM aimeter.activity_weekly a
 GROUP BY a.week, a.tool
HAVING count(DISTINCT a.person_key) >= (SELECT min_group_size FROM aimeter.settings);

CREATE VIEW reporting.adoption_monthly_by_tool AS
SELECT to_char(a.month, 'YYYY-MM') AS month_label, a.month,
       CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       count(DISTINCT a.person_key) AS active_people, sum(a.active_days) AS person_days
  FROM aimeter.activity_monthly a
 GROUP BY a.month, a.tool
HAVING count(DISTINCT a.person_key) >= (SELECT min_group_size FROM aimeter.settings);

-- New, returning, retained and churned people per team (any tool):
--   new       first active period ever is this one
--   returning active now, active before, but not in the previous period
--   retained  active now and in the previous period
--   churned   active in the previous period (in this team), not now (anywhere)
-- aimeter.adoption_flow(kind, period): the rows for one period, unfiltered.
CREATE FUNCTION aimeter.adoption_flow(p_kind text, p_period date)
RETURNS TABLE (team_id int, active_people bigint, new_people bigint, returning_people bigint,
	       retained_people bigint, churned_people bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_tab text := CASE p_kind WHEN 'week' THEN 'activity_weekly' ELSE 'activity_monthly' END;
	v_col text := CASE p_kind WHEN 'week' THEN 'week' ELSE 'month' END;
	v_prev date := CASE p_kind WHEN 'week' THEN p_period - 7
				   ELSE (p_period - interval '1 month')::date END;
BEGIN
	-- Joins over two periods' people and their first day: linear in them.
	RETURN QUERY EXECUTE format($q$
	WITH cur AS MATERIALIZED (
		SELECT a.team_id, a.person_key FROM aimeter.%1$I a WHERE a.%2$I = $1 AND a.tool = '*'
	), prev AS MATERIALIZED (
		SELECT a.team_id, a.person_key FROM aimeter.%1$I a WHERE a.%2$I = $2 AND a.tool = '*'
	), cur_p AS (
		SELECT DISTINCT person_key FROM cur
	), prev_p AS (
		SELECT DISTINCT person_key FROM prev
	), x AS (
		SELECT c.team_id, count(*) AS act,
		       count(*) FILTER (WHERE s.first_day IS NULL OR s.first_day >= $1) AS nw,
		       count(*) FILTER (WHERE s.first_day < $1 AND pp.person_key IS NULL) AS ret,
		       count(*) FILTER (WHERE pp.person_key IS NOT NULL) AS kept,
		       0::bigint AS churn
		  FROM cur c
		  LEFT JOIN aimeter.activity_seen s ON s.person_key = c.person_key AND s.tool = '*'
		  LEFT JOIN prev_p pp ON pp.person_key = c.person_key
		 GROUP BY c.team_id
		UNION ALL
		SELECT p.team_id, 0, 0, 0, 0, count(*)
		  FROM prev p LEFT JOIN cur_p c ON c.person_key = p.person_key
		 WHERE c.person_key IS NULL
		 GROUP BY p.team_id
	)
	SELECT x.team_id, sum(x.act)::bigint, sum(x.nw)::bigint, sum(x.ret)::bigint,
	       sum(x.kept)::bigint, sum(x.churn)::bigint
	  FROM x GROUP BY x.team_id
	$q$, v_tab, v_col) USING p_period, v_prev;
END
$$;

-- Light / moderate / heavy by active days in the period (any tool):
-- month: 1-4, 5-11, 12+ days; week: 1, 2-3, 4+ days. none = headcount -
-- active people (never below 0), reported as `inactive`.
CREATE FUNCTION aimeter.adoption_cohorts(p_kind text, p_period date)
RETURNS TABLE (team_id int, light bigint, moderate bigint, heavy bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT a.team_id,
	       count(*) FILTER (WHERE a.d <= CASE p_kind WHEN 'week' THEN 1 ELSE 4 END),
	       count(*) FILTER (WHERE a.d > CASE p_kind WHEN 'week' THEN 1 ELSE 4 END
				  AND a.d < CASE p_kind WHEN 'week' THEN 4 ELSE 12 END),
	       count(*) FILTER (WHERE a.d >= CASE p_kind WHEN 'week' THEN 4 ELSE 12 END)
	  FROM (SELECT w.team_id, w.active_days AS d FROM aimeter.activity_weekly w
		 WHERE p_kind = 'week' AND w.week = p_period AND w.tool = '*'
		UNION ALL
		SELECT m.team_id, m.active_days FROM aimeter.activity_monthly m
		 WHERE p_kind = 'month' AND m.month = p_period AND m.tool = '*') a
	 GROUP BY a.team_id
$$;

-- aimeter.adoption_summary(kind, period): one row per team for one ISO
-- week (its Monday) or month (its first day), with the size filter
-- applied. What `aimeterctl report adoption --by team` prints.
CREATE FUNCTION aimeter.adoption_summary(p_kind text, p_period date)
RETURNS TABLE (team text, headcount bigint, active_people bigint, active_share numeric,
	       person_days bigint, new_people bigint, returning_people bigint,
	       retained_people bigint, churned_people bigint, light bigint, moderate bigint,
	       heavy bigint, inactive bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_end date := CASE p_kind WHEN 'week' THEN p_period + 6
				  ELSE (p_period + interval '1 month' - interval '1 day')::date END;
BEGIN
	IF p_kind NOT IN ('week', 'month') THEN
		RAISE EXCEPTION 'period kind is week or month' USING ERRCODE = '22023';
	END IF;
	RETURN QUERY
	WITH days AS (
		SELECT w.team_id, sum(w.active_days)::bigint AS pd FROM aimeter.activity_weekly w
		 WHERE p_kind = 'week' AND w.week = p_period AND w.tool = '*' GROUP BY 1
		UNION ALL
		SELECT m.team_id, sum(m.active_days)::bigint FROM aimeter.activity_monthly m
		 WHERE p_kind = 'month' AND m.month = p_period AND m.tool = '*' GROUP BY 1
	), f AS (
		SELECT * FROM aimeter.adoption_flow(p_kind, p_period)
	), c AS (
		SELECT * FROM aimeter.adoption_cohorts(p_kind, p_period)
	), teams AS (
		SELECT f.team_id FROM f
		UNION
		SELECT m.team_id FROM aimeter.memberships m
		 WHERE m.valid_from <= v_end AND (m.valid_to IS NULL OR v_end < m.valid_to)
	), hc AS (
		SELECT tt.team_id, coalesce(m.n, 0) AS n
		  FROM teams tt
		  LEFT JOIN (SELECT mb.team_id, count(*) AS n FROM aimeter.memberships mb
			      WHERE mb.valid_from <= v_end AND (mb.valid_to IS NULL OR v_end < mb.valid_to)
			      GROUP BY mb.team_id) m ON m.team_id = tt.team_id
	)
	SELECT t.name, hc.n, coalesce(f.active_people, 0),
	       round(coalesce(f.active_people, 0)::numeric / nullif(hc.n, 0), 4),
	       coalesce(d.pd, 0), coalesce(f.new_people, 0), coalesce(f.returning_people, 0),
	       coalesce(f.retained_people, 0), coalesce(f.churned_people, 0),
	       coalesce(c.light, 0), coalesce(c.moderate, 0), coalesce(c.heavy, 0),
	       greatest(hc.n - coalesce(f.active_people, 0), 0)
	  FROM hc
	  JOIN aimeter.teams t ON t.team_id = hc.team_id
	  LEFT JOIN f ON f.team_id = hc.team_id
	  LEFT JOIN c ON c.team_id = hc.team_id
	  LEFT JOIN days d ON d.team_id = hc.team_id
	 CROSS JOIN aimeter.settings s
	 WHERE greatest(hc.n, coalesce(f.active_people, 0) + coalesce(f.churned_people, 0))
	       >= s.min_group_size
	 ORDER BY t.name;
END
$$;

-- The same for every week and month with data, as views.
CREATE VIEW reporting.adoption_flow_weekly AS
SELECT to_char(w.week, 'IYYY-"W"IW') AS iso_week, w.week AS week_start, s.*
  FROM (SELECT DISTINCT week FROM aimeter.activity_weekly) w
 CROSS JOIN LATERAL aimeter.adoption_summary('week', w.week) s;

CREATE VIEW reporting.adoption_flow_monthly AS
SELECT to_char(m.month, 'YYYY-MM') AS month_label, m.month, s.*
  FROM (SELECT DISTINCT month FROM aimeter.activity_monthly) m
 CROSS JOIN LATERAL aimeter.adoption_summary('month', m.month) s;

-- First and last day each team used each tool, and how many people ever.
CREATE VIEW reporting.adoption_tool_reach AS
SELECT t.name AS team, a.tool, min(a.day) AS first_seen, max(a.day) AS last_seen,
       count(DISTINCT a.person_key) AS people_ever
  FROM aimeter.activity_daily a
  JOIN aimeter.teams t ON t.team_id = a.team_id
 WHERE a.tool <> '*'
 GROUP BY t.name, a.team_id, a.tool
HAVING greatest(count(DISTINCT a.person_key),
		aimeter.team_headcount(a.team_id, max(a.day)))
       >= (SELECT min_group_size FROM aimeter.settings);

-- Admin only (schema aimeter): first and last seen per person and tool,
-- by person key. Reading identities goes through aimeter.reveal() (audited).
CREATE VIEW aimeter.person_tool_seen AS
SELECT s.person_key, s.tool, s.first_day AS first_seen, s.last_day AS last_seen
  FROM aimeter.activity_seen s
 WHERE s.tool <> '*';

-- aimeter.reveal(person_key, reason): the person's primary identity, audited.
CREATE FUNCTION aimeter.reveal(p_person_key bytea, p_reason text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v text;
BEGIN
	IF coalesce(btrim(p_reason), '') = '' THEN
		RAISE EXCEPTION 'a reveal needs a reason' USING ERRCODE = '22023';
	END IF;
	SELECT label INTO v FROM aimeter.people WHERE person_key = p_person_key;
	PERFORM aimeter.audit('reveal', encode(p_person_key, 'hex'),
			      jsonb_build_object('reason', p_reason, 'found', v IS NOT NULL));
	RETURN v;
END
$$;
