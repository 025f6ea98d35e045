CREATE OR REPLACE FUNCTION aimeter.guard_monthly_tg()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF current_setting('aimeter.bypass_close', true) = 'on' THEN
		RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	IF (TG_OP <> 'INSERT' AND aimeter.is_closed(OLD.month))
	   OR (TG_OP <> 'DELETE' AND aimeter.is_closed(NEW.month)) THEN
		RETURN NULL; -- booked as a correction by the usage_daily guard
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
REVOKE ALL ON FUNCTION aimeter.guard_monthly_tg() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.guard_monthly_tg() TO aimeter_admin;
