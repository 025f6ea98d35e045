-- aimeter.person_forget_actions(keys, new_key): the action records' part of
-- aimeter.person_forget: the person's keys become new_key in action_events
-- and actions_daily (rows merged), so team totals stay and nothing links
-- the records to the erased identities. Returns the action rows changed.
CREATE OR REPLACE FUNCTION aimeter.person_forget_actions(p_keys bytea[], p_new bytea)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_rows bigint;
BEGIN
	UPDATE aimeter.action_events SET person_key = p_new WHERE person_key = ANY (p_keys);
	GET DIAGNOSTICS v_rows = ROW_COUNT;
	WITH del AS (
		DELETE FROM aimeter.actions_daily WHERE person_key = ANY (p_keys) RETURNING *
	)
	INSERT INTO aimeter.actions_daily
	SELECT day, p_new, team_id, cost_center_id, tool, tool_name, target, kind, decision,
	       project, sum(calls), sum(lines_added), sum(lines_removed),
	       sum(proposed_lines_added), sum(proposed_lines_removed), sum(commits),
	       sum(pull_requests)
	  FROM del GROUP BY day, team_id, cost_center_id, tool, tool_name, target, kind, decision,
			    project;
	RETURN v_rows;
END
$$;
REVOKE ALL ON FUNCTION aimeter.person_forget_actions(bytea[],bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.person_forget_actions(bytea[],bytea) TO aimeter_admin;
