-- aimeter.team_cost_center(team, day): the team's mapped cost centre that
-- day, else its nearest ancestor's, else NULL.
CREATE OR REPLACE FUNCTION aimeter.team_cost_center(p_team int, p_day date)
RETURNS int LANGUAGE sql STABLE AS $$
	WITH RECURSIVE up(team_id, parent_team_id, depth) AS (
		SELECT t.team_id, t.parent_team_id, 0 FROM aimeter.teams t WHERE t.team_id = p_team
		UNION ALL
		SELECT t.team_id, t.parent_team_id, up.depth + 1
		  FROM up JOIN aimeter.teams t ON t.team_id = up.parent_team_id
		 WHERE up.depth < 32
	)
	SELECT m.cost_center_id
	  FROM up JOIN aimeter.team_cost_centers m ON m.team_id = up.team_id
	 WHERE p_day >= m.valid_from AND (m.valid_to IS NULL OR p_day < m.valid_to)
	 ORDER BY up.depth
	 LIMIT 1
$$;
REVOKE ALL ON FUNCTION aimeter.team_cost_center(integer,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.team_cost_center(integer,date) TO aimeter_admin;
