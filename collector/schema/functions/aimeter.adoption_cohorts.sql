-- Light / moderate / heavy by active days in the period (any tool):
-- month: 1-4, 5-11, 12+ days; week: 1, 2-3, 4+ days. none = headcount -
-- active people (never below 0), reported as `inactive`.
CREATE OR REPLACE FUNCTION aimeter.adoption_cohorts(p_kind text, p_period date)
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
REVOKE ALL ON FUNCTION aimeter.adoption_cohorts(text,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.adoption_cohorts(text,date) TO aimeter_admin;
