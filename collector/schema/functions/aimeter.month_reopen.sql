-- aimeter.month_reopen(month, reason): exceptional; logged with the reason.
CREATE OR REPLACE FUNCTION aimeter.month_reopen(p_month date, p_reason text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_month date := date_trunc('month', p_month)::date;
	v_hash text;
BEGIN
	IF coalesce(btrim(p_reason), '') = '' THEN
		RAISE EXCEPTION 'reopening a month needs a reason' USING ERRCODE = '22023';
	END IF;
	LOCK TABLE aimeter.usage_daily, aimeter.usage_monthly, aimeter.usage_corrections
		IN SHARE ROW EXCLUSIVE MODE;
	SELECT content_hash INTO v_hash FROM aimeter.accounting_periods
	 WHERE month = v_month AND status = 'closed';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'month % is not closed', to_char(v_month, 'YYYY-MM')
			USING ERRCODE = '55000';
	END IF;
	DELETE FROM aimeter.close_lines WHERE accounting_month = v_month;
	UPDATE aimeter.accounting_periods SET status = 'open' WHERE month = v_month;
	INSERT INTO aimeter.period_log (month, action, reason, content_hash)
	VALUES (v_month, 'reopen', p_reason, v_hash);
	PERFORM aimeter.audit('month_reopen', to_char(v_month, 'YYYY-MM'),
			      jsonb_build_object('reason', p_reason, 'content_hash', v_hash));
	PERFORM aimeter.close_guards_refresh();
	RETURN v_hash;
END
$$;
REVOKE ALL ON FUNCTION aimeter.month_reopen(date,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.month_reopen(date,text) TO aimeter_admin;
