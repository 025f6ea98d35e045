-- aimeter.retention_apply_actions(raw_cut, person_cut): the action records'
-- part of aimeter.retention_apply: drops action_events partitions that end
-- on or before raw_cut and folds per-person actions_daily rows before
-- person_cut into person-less rows. Returns the partitions dropped.
CREATE OR REPLACE FUNCTION aimeter.retention_apply_actions(p_raw_cut date, p_person_cut date)
RETURNS text[] LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_part record;
	v_dropped text[] := '{}';
BEGIN
	FOR v_part IN
		SELECT c.relname, to_date(substr(c.relname, 15), 'YYYYMM') AS month
		  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = 'aimeter.action_events'::regclass
		   AND c.relname ~ '^action_events_[0-9]{6}$'
		 ORDER BY 1
	LOOP
		IF (v_part.month + interval '1 month')::date <= p_raw_cut THEN
			EXECUTE format('DROP TABLE aimeter.%I', v_part.relname);
			v_dropped := v_dropped || v_part.relname::text;
		END IF;
	END LOOP;
	WITH del AS (
		DELETE FROM aimeter.actions_daily WHERE day < p_person_cut AND person_key <> ''
		RETURNING *
	)
	INSERT INTO aimeter.actions_daily AS d
	SELECT day, ''::bytea, team_id, cost_center_id, tool, tool_name, target, kind, decision,
	       project, sum(calls), sum(lines_added), sum(lines_removed),
	       sum(proposed_lines_added), sum(proposed_lines_removed), sum(commits),
	       sum(pull_requests)
	  FROM del GROUP BY day, team_id, cost_center_id, tool, tool_name, target, kind, decision,
			    project
	ON CONFLICT (day, person_key, team_id, cost_center_id, tool, tool_name, target, kind,
		     decision, project) DO UPDATE
	   SET calls = d.calls + excluded.calls, lines_added = d.lines_added + excluded.lines_added,
	       lines_removed = d.lines_removed + excluded.lines_removed,
	       proposed_lines_added = d.proposed_lines_added + excluded.proposed_lines_added,
	       proposed_lines_removed = d.proposed_lines_removed + excluded.proposed_lines_removed,
	       commits = d.commits + excluded.commits,
	       pull_requests = d.pull_requests + excluded.pull_requests;
	DELETE FROM aimeter.action_edit_sessions WHERE day < p_raw_cut;
	RETURN v_dropped;
END
$$;
REVOKE ALL ON FUNCTION aimeter.retention_apply_actions(date,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.retention_apply_actions(date,date) TO aimeter_admin;
