-- aimeter.close_guards_refresh(): (re)install the guards with the current
-- watermark. CREATE TRIGGER locks the rollups against writers, so a close
-- sees no ingest half-way.
CREATE OR REPLACE FUNCTION aimeter.close_guards_refresh()
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_end date;
BEGIN
	SELECT (max(month) + interval '1 month')::date INTO v_end
	  FROM aimeter.accounting_periods WHERE status = 'closed';
	DROP TRIGGER IF EXISTS guard_closed_ins ON aimeter.usage_daily;
	DROP TRIGGER IF EXISTS guard_closed_upd ON aimeter.usage_daily;
	DROP TRIGGER IF EXISTS guard_closed_del ON aimeter.usage_daily;
	DROP TRIGGER IF EXISTS guard_closed_ins ON aimeter.usage_monthly;
	DROP TRIGGER IF EXISTS guard_closed_upd ON aimeter.usage_monthly;
	DROP TRIGGER IF EXISTS guard_closed_del ON aimeter.usage_monthly;
	IF v_end IS NULL THEN
		RETURN;
	END IF;
	EXECUTE format('CREATE TRIGGER guard_closed_ins BEFORE INSERT ON aimeter.usage_daily '
		       'FOR EACH ROW WHEN (NEW.day < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_daily_tg()', v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_upd BEFORE UPDATE ON aimeter.usage_daily '
		       'FOR EACH ROW WHEN (OLD.day < %L::date OR NEW.day < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_daily_tg()', v_end, v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_del BEFORE DELETE ON aimeter.usage_daily '
		       'FOR EACH ROW WHEN (OLD.day < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_daily_tg()', v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_ins BEFORE INSERT ON aimeter.usage_monthly '
		       'FOR EACH ROW WHEN (NEW.month < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_monthly_tg()', v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_upd BEFORE UPDATE ON aimeter.usage_monthly '
		       'FOR EACH ROW WHEN (OLD.month < %L::date OR NEW.month < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_monthly_tg()', v_end, v_end);
	EXECUTE format('CREATE TRIGGER guard_closed_del BEFORE DELETE ON aimeter.usage_monthly '
		       'FOR EACH ROW WHEN (OLD.month < %L::date) '
		       'EXECUTE FUNCTION aimeter.guard_monthly_tg()', v_end);
END
$$;
REVOKE ALL ON FUNCTION aimeter.close_guards_refresh() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.close_guards_refresh() TO aimeter_admin;
