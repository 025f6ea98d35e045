-- The scope's metrics over the 28 days before p_end: [p_end - 28, p_end).
CREATE OR REPLACE FUNCTION aimeter.initiative_metrics(p_id int, p_end date,
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
REVOKE ALL ON FUNCTION aimeter.initiative_metrics(integer,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.initiative_metrics(integer,date) TO aimeter_admin;
