-- aimeter.seat_cost(subscription or NULL, from, to): seat cost in [from, to).
-- Assigned seat-days go to the assignee's team and cost centre (membership
-- override, else the team's mapping at the segment's start); assigned days
-- without a membership go to team 0 and the subscription's cost centre; the
-- rest of the purchased seat-days (the unassigned pool) has team NULL and
-- the subscription's cost centre. amount = seat_days * price / term days.
CREATE OR REPLACE FUNCTION aimeter.seat_cost(p_sub int, p_from date, p_to date)
RETURNS TABLE (subscription_id int, team_id int, cost_center_id int, seat_days numeric,
	       amount numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH s AS (
		SELECT x.subscription_id, x.seats, x.price_per_seat, x.cost_center_id,
		       greatest(x.term_start, p_from) AS f, least(x.term_end, p_to) AS t,
		       (x.term_end - x.term_start) AS term_days
		  FROM aimeter.subscriptions x
		 WHERE (p_sub IS NULL OR x.subscription_id = p_sub)
		   AND x.term_start < p_to AND x.term_end > p_from
	), asg AS (
		SELECT s.subscription_id, a.assignment_id, a.person_id,
		       greatest(a.valid_from, s.f) AS f,
		       least(coalesce(a.valid_to, 'infinity'::date), s.t) AS t
		  FROM s JOIN aimeter.seat_assignments a ON a.subscription_id = s.subscription_id
		 WHERE a.valid_from < s.t AND coalesce(a.valid_to, 'infinity'::date) > s.f
	), seg AS (
		SELECT asg.subscription_id, asg.assignment_id, m.team_id,
		       coalesce(m.cost_center_id,
				aimeter.team_cost_center(m.team_id, greatest(asg.f, m.valid_from)),
				0) AS cc,
		       least(asg.t, coalesce(m.valid_to, 'infinity'::date))
			 - greatest(asg.f, m.valid_from) AS days
		  FROM asg JOIN aimeter.memberships m ON m.person_id = asg.person_id
		 WHERE m.valid_from < asg.t AND coalesce(m.valid_to, 'infinity'::date) > asg.f
	), lines AS (
		SELECT seg.subscription_id, seg.team_id, seg.cc, seg.days::numeric AS days FROM seg
		UNION ALL
		SELECT asg.subscription_id, 0, s.cost_center_id,
		       ((asg.t - asg.f) - coalesce((SELECT sum(seg.days) FROM seg
						    WHERE seg.assignment_id = asg.assignment_id), 0))::numeric
		  FROM asg JOIN s ON s.subscription_id = asg.subscription_id
		UNION ALL
		SELECT s.subscription_id, NULL, s.cost_center_id,
		       greatest(s.seats::numeric * (s.t - s.f)
				- coalesce((SELECT sum(asg.t - asg.f) FROM asg
					     WHERE asg.subscription_id = s.subscription_id), 0), 0)
		  FROM s
	)
	SELECT l.subscription_id, l.team_id, l.cc, sum(l.days),
	       sum(l.days) * s.price_per_seat / s.term_days
	  FROM lines l JOIN s ON s.subscription_id = l.subscription_id
	 WHERE l.days > 0
	 GROUP BY l.subscription_id, l.team_id, l.cc, s.price_per_seat, s.term_days
$$;
REVOKE ALL ON FUNCTION aimeter.seat_cost(integer,date,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.seat_cost(integer,date,date) TO aimeter_reader, aimeter_admin;
