-- What aimeter_reader may call (it has no USAGE on schema aimeter): the
-- person-free report functions, as of a day, and an audit entry for exports.
CREATE OR REPLACE FUNCTION reporting.adoption_summary(p_kind text, p_period date)
RETURNS TABLE (team text, headcount bigint, active_people bigint, active_share numeric,
	       person_days bigint, new_people bigint, returning_people bigint,
	       retained_people bigint, churned_people bigint, light bigint, moderate bigint,
	       heavy bigint, inactive bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM aimeter.adoption_summary(p_kind, p_period)
$$;
REVOKE ALL ON FUNCTION reporting.adoption_summary(text,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.adoption_summary(text,date) TO aimeter_reader;
