CREATE OR REPLACE FUNCTION aimeter.is_closed(p_month date)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT EXISTS (SELECT 1 FROM aimeter.accounting_periods
		       WHERE month = date_trunc('month', p_month)::date AND status = 'closed')
$$;
REVOKE ALL ON FUNCTION aimeter.is_closed(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.is_closed(date) TO aimeter_admin;
