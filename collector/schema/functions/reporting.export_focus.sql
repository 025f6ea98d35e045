-- reporting.export_focus(month): the month's FOCUS rows, in export order,
-- and an audit row of who exported which month and how many rows. The
-- finance role exports through it; it reads only reporting's view, which readers
-- cannot replace, and writes only through aimeter.audit.
CREATE OR REPLACE FUNCTION reporting.export_focus(p_month date)
RETURNS SETOF reporting.focus_cost_and_usage
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_first date := date_trunc('month', p_month)::date;
	v_rows bigint;
BEGIN
	RETURN QUERY
	SELECT f.* FROM reporting.focus_cost_and_usage f
	 WHERE f."BillingPeriodStart" = v_first::timestamp AT TIME ZONE 'UTC'
	 ORDER BY f."x_Source", f."SubAccountId", f."x_Team", f."SkuId", f."ChargePeriodStart";
	GET DIAGNOSTICS v_rows = ROW_COUNT;
	PERFORM aimeter.audit('export_focus', to_char(v_first, 'YYYY-MM'),
			      jsonb_build_object('rows', v_rows, 'role', current_user));
END
$$;
REVOKE ALL ON FUNCTION reporting.export_focus(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.export_focus(date) TO aimeter_finance;
