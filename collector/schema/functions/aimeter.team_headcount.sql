-- Team size as of a day (memberships valid that day).
CREATE OR REPLACE FUNCTION aimeter.team_headcount(p_team int, p_day date)
RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT count(*) FROM aimeter.memberships m
	 WHERE m.team_id = p_team AND m.valid_from <= p_day
	   AND (m.valid_to IS NULL OR p_day < m.valid_to)
$$;
REVOKE ALL ON FUNCTION aimeter.team_headcount(integer,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.team_headcount(integer,date) TO aimeter_reader, aimeter_admin;
