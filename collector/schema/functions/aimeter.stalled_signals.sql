-- Stalled investment as of a day, over complete ISO weeks before it:
--   active_share_falling         weekly active share fell two weeks running
--   spend_rising_active_falling  last week: more usage cost, fewer active people
--   seats_idle                   assigned seats with no use for 14 days or more
-- Teams below the minimum group size are left out.
CREATE OR REPLACE FUNCTION aimeter.stalled_signals(p_as_of date)
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
REVOKE ALL ON FUNCTION aimeter.stalled_signals(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.stalled_signals(date) TO aimeter_reader, aimeter_admin;
