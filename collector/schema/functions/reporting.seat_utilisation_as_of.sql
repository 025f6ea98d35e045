CREATE OR REPLACE FUNCTION reporting.seat_utilisation_as_of(p_as_of date)
RETURNS TABLE (subscription text, vendor text, plan text, tool text, seats int,
	       assigned bigint, unassigned bigint, active_28d bigint, idle_14d bigint,
	       utilisation numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM aimeter.seat_utilisation(p_as_of)
$$;
REVOKE ALL ON FUNCTION reporting.seat_utilisation_as_of(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.seat_utilisation_as_of(date) TO aimeter_reader;
