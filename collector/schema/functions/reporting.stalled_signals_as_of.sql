CREATE OR REPLACE FUNCTION reporting.stalled_signals_as_of(p_as_of date)
RETURNS TABLE (signal text, team text, subscription text, week text, detail jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM aimeter.stalled_signals(p_as_of)
$$;
REVOKE ALL ON FUNCTION reporting.stalled_signals_as_of(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.stalled_signals_as_of(date) TO aimeter_reader;
