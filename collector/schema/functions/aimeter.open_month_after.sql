-- aimeter.open_month_after(month): the first month after it that is open.
CREATE OR REPLACE FUNCTION aimeter.open_month_after(p_month date)
RETURNS date LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v date := (date_trunc('month', p_month) + interval '1 month')::date;
BEGIN
	WHILE aimeter.is_closed(v) LOOP
		v := (v + interval '1 month')::date;
	END LOOP;
	RETURN v;
END
$$;
REVOKE ALL ON FUNCTION aimeter.open_month_after(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.open_month_after(date) TO aimeter_admin;
