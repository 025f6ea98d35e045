CREATE OR REPLACE FUNCTION reporting.initiative_status_as_of(p_as_of date)
RETURNS TABLE (initiative text, owner text, value_category text, start_date date,
	       criteria_set_before_start boolean, metric text, comparator text,
	       target numeric, due date, value numeric, kill_metric text,
	       kill_comparator text, kill_target numeric, kill_due date, kill_value numeric,
	       status text, reason text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM aimeter.initiative_status(p_as_of)
$$;
REVOKE ALL ON FUNCTION reporting.initiative_status_as_of(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.initiative_status_as_of(date) TO aimeter_reader;
