-- Seat utilisation as of a day: assigned versus active in the 28 days before
-- it; idle = assigned for 14 days or more with no activity in the last 14.
-- Counts of a subscription with fewer assignees than the minimum group size
-- are NULL (they would describe individuals).
CREATE OR REPLACE FUNCTION aimeter.seat_utilisation(p_as_of date)
RETURNS TABLE (subscription text, vendor text, plan text, tool text, seats int,
	       assigned bigint, unassigned bigint, active_28d bigint, idle_14d bigint,
	       utilisation numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH a AS (
		SELECT x.subscription_id, a.valid_from, p.person_key,
		       EXISTS (SELECT 1 FROM aimeter.activity_daily d
				WHERE d.person_key = p.person_key
				  AND d.tool = coalesce(x.tool, '*')
				  AND d.day >= p_as_of - 28 AND d.day < p_as_of) AS active28,
		       EXISTS (SELECT 1 FROM aimeter.activity_daily d
				WHERE d.person_key = p.person_key
				  AND d.tool = coalesce(x.tool, '*')
				  AND d.day >= p_as_of - 14 AND d.day < p_as_of) AS active14
		  FROM aimeter.subscriptions x
		  JOIN aimeter.seat_assignments a ON a.subscription_id = x.subscription_id
		  JOIN aimeter.people p ON p.person_id = a.person_id
		 WHERE a.valid_from <= p_as_of AND (a.valid_to IS NULL OR p_as_of < a.valid_to)
	), g AS (
		SELECT a.subscription_id, count(*) AS assigned,
		       count(*) FILTER (WHERE a.active28) AS active28,
		       count(*) FILTER (WHERE NOT a.active14 AND a.valid_from <= p_as_of - 14) AS idle14
		  FROM a GROUP BY 1
	)
	SELECT x.name, x.vendor, x.plan, x.tool, x.seats, coalesce(g.assigned, 0),
	       greatest(x.seats - coalesce(g.assigned, 0), 0),
	       CASE WHEN coalesce(g.assigned, 0) >= s.min_group_size THEN g.active28 END,
	       CASE WHEN coalesce(g.assigned, 0) >= s.min_group_size THEN g.idle14 END,
	       CASE WHEN coalesce(g.assigned, 0) >= s.min_group_size AND x.seats > 0
		    THEN round(g.active28::numeric / x.seats, 4) END
	  FROM aimeter.subscriptions x
	  LEFT JOIN g ON g.subscription_id = x.subscription_id
	 CROSS JOIN aimeter.settings s
	 WHERE x.term_start <= p_as_of AND p_as_of < x.term_end
	 ORDER BY x.name
$$;
REVOKE ALL ON FUNCTION aimeter.seat_utilisation(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.seat_utilisation(date) TO aimeter_reader, aimeter_admin;
