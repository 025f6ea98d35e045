-- aimeter.ensure_partition(month): the month's partition of usage_events,
-- made on demand (aimeter.ensure_month_partition says how, race included).
CREATE OR REPLACE FUNCTION aimeter.ensure_partition(p_month date)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT aimeter.ensure_month_partition('usage_events', p_month);
$$;
REVOKE ALL ON FUNCTION aimeter.ensure_partition(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.ensure_partition(date) TO aimeter_admin;
