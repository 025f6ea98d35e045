-- aimeter.initiative_status(as_of): on_track, at_risk or kill per initiative.
--   kill      the kill criterion holds on or after its date, or the target
--             was missed at its date
--   on_track  the target holds (over the 28 days before min(as_of, date)),
--             or, for >= and >, the value is on pace: at least target x the
--             elapsed share of [start, date)
--   at_risk   otherwise, and whenever the kill criterion holds before its date
CREATE OR REPLACE FUNCTION aimeter.initiative_status(p_as_of date)
RETURNS TABLE (initiative text, owner text, value_category text, start_date date,
	       criteria_set_before_start boolean, metric text, comparator text,
	       target numeric, due date, value numeric, kill_metric text,
	       kill_comparator text, kill_target numeric, kill_due date, kill_value numeric,
	       status text, reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	i record;
	v_met boolean;
	v_kill boolean;
	v_pace numeric;
BEGIN
	FOR i IN
		SELECT n.*, t.metric AS t_metric, t.comparator AS t_op, t.target AS t_target,
		       t.due AS t_due, t.set_at AS t_set, k.metric AS k_metric,
		       k.comparator AS k_op, k.target AS k_target, k.due AS k_due, k.set_at AS k_set
		  FROM aimeter.initiatives n
		  JOIN aimeter.initiative_criteria t ON t.initiative_id = n.initiative_id AND t.kind = 'target'
		  JOIN aimeter.initiative_criteria k ON k.initiative_id = n.initiative_id AND k.kind = 'kill'
		 ORDER BY n.name
	LOOP
		initiative := i.name;
		owner := i.owner;
		value_category := i.value_category;
		start_date := i.start_date;
		criteria_set_before_start := greatest(i.t_set, i.k_set)
			< i.start_date::timestamp AT TIME ZONE 'UTC';
		metric := i.t_metric;
		comparator := i.t_op;
		target := i.t_target;
		due := i.t_due;
		kill_metric := i.k_metric;
		kill_comparator := i.k_op;
		kill_target := i.k_target;
		kill_due := i.k_due;
		value := aimeter.initiative_value(i.initiative_id, i.t_metric, least(p_as_of, i.t_due));
		kill_value := aimeter.initiative_value(i.initiative_id, i.k_metric, p_as_of);
		v_met := coalesce(aimeter.compare(value, i.t_op, i.t_target), false);
		v_kill := coalesce(aimeter.compare(kill_value, i.k_op, i.k_target), false);
		IF p_as_of >= i.k_due AND v_kill THEN
			status := 'kill';
			reason := 'kill criterion met';
		ELSIF p_as_of >= i.t_due AND NOT v_met THEN
			status := 'kill';
			reason := 'target missed at its date';
		ELSIF v_kill THEN
			status := 'at_risk';
			reason := 'kill criterion holds before its date';
		ELSIF v_met THEN
			status := 'on_track';
			reason := CASE WHEN p_as_of >= i.t_due THEN 'target met at its date'
				       ELSE 'target met' END;
		ELSE
			v_pace := CASE WHEN p_as_of <= i.start_date THEN 0
				       ELSE (p_as_of - i.start_date)::numeric / (i.t_due - i.start_date) END;
			IF i.t_op IN ('>=', '>') AND coalesce(value, 0) >= i.t_target * v_pace THEN
				status := 'on_track';
				reason := 'on pace for the target';
			ELSE
				status := 'at_risk';
				reason := 'behind the target''s pace';
			END IF;
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION aimeter.initiative_status(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.initiative_status(date) TO aimeter_reader, aimeter_admin;
