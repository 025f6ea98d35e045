-- New, returning, retained and churned people per team (any tool):
--   new       first active period ever is this one
--   returning active now, active before, but not in the previous period
--   retained  active now and in the previous period
--   churned   active in the previous period (in this team), not now (anywhere)
-- aimeter.adoption_flow(kind, period): the rows for one period, unfiltered.
CREATE OR REPLACE FUNCTION aimeter.adoption_flow(p_kind text, p_period date)
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
REVOKE ALL ON FUNCTION aimeter.adoption_flow(text,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.adoption_flow(text,date) TO aimeter_admin;
