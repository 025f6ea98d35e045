CREATE OR REPLACE FUNCTION aimeter.initiative_value(p_id int, p_metric text, p_end date)
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
REVOKE ALL ON FUNCTION aimeter.initiative_value(integer,text,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.initiative_value(integer,text,date) TO aimeter_admin;
