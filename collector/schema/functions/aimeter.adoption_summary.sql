-- aimeter.adoption_summary(kind, period): one row per team for one ISO
-- week (its Monday) or month (its first day), with the size filter
-- applied. What `aimeterctl report adoption --by team` prints.
CREATE OR REPLACE FUNCTION aimeter.adoption_summary(p_kind text, p_period date)
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
REVOKE ALL ON FUNCTION aimeter.adoption_summary(text,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.adoption_summary(text,date) TO aimeter_reader, aimeter_admin;
