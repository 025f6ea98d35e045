-- aimeter.month_close(month): freeze a finished month; returns the hash.
CREATE OR REPLACE FUNCTION aimeter.month_close(p_month date)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_month date := date_trunc('month', p_month)::date;
	v_hash text;
	v_n int;
BEGIN
	-- Rollups exact first: the deferred fold (docs/write-path.md).
	PERFORM aimeter.fold_rollups();
	IF v_month >= date_trunc('month', now() AT TIME ZONE 'UTC')::date THEN
		RAISE EXCEPTION 'month % has not ended yet', to_char(v_month, 'YYYY-MM')
			USING ERRCODE = '22023';
	END IF;
	-- Writers of the rollups wait until this commits: the snapshot and the
	-- guard see the same data.
	LOCK TABLE aimeter.usage_daily, aimeter.usage_monthly, aimeter.usage_corrections
		IN SHARE ROW EXCLUSIVE MODE;
	IF aimeter.is_closed(v_month) THEN
		RAISE EXCEPTION 'month % is already closed', to_char(v_month, 'YYYY-MM')
			USING ERRCODE = '55000';
	END IF;
	INSERT INTO aimeter.close_lines SELECT * FROM aimeter.ledger_live WHERE accounting_month = v_month;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	v_hash := aimeter.ledger_hash(v_month, false);
	INSERT INTO aimeter.accounting_periods AS p (month, status, content_hash, line_count,
						     closed_at, closed_by)
	VALUES (v_month, 'closed', v_hash, v_n, now(), session_user)
	ON CONFLICT (month) DO UPDATE SET status = 'closed', content_hash = excluded.content_hash,
		line_count = excluded.line_count, closed_at = excluded.closed_at,
		closed_by = excluded.closed_by;
	INSERT INTO aimeter.period_log (month, action, content_hash) VALUES (v_month, 'close', v_hash);
	PERFORM aimeter.audit('month_close', to_char(v_month, 'YYYY-MM'),
			      jsonb_build_object('content_hash', v_hash, 'lines', v_n));
	PERFORM aimeter.close_guards_refresh();
	RETURN v_hash;
END
$$;
REVOKE ALL ON FUNCTION aimeter.month_close(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.month_close(date) TO aimeter_admin;
