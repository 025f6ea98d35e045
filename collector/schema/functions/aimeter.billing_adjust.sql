-- aimeter.billing_adjust(vendor, account, model, day, amount, reason, team):
-- book an adjustment (append-only) in the day's month, or in the first open
-- month after it when that month is closed, as corrections are booked.
-- Its cost centre is the team's on that day (0: unassigned). Returns the
-- row's id and accounting month.
CREATE OR REPLACE FUNCTION aimeter.billing_adjust(p_vendor text, p_account text, p_model text,
						  p_day date, p_amount numeric, p_reason text,
						  p_team text)
RETURNS TABLE (adjustment_id bigint, accounting_month date)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_team int;
	v_month date := date_trunc('month', p_day)::date;
BEGIN
	IF p_team IS NOT NULL THEN
		SELECT t.team_id INTO v_team FROM aimeter.teams t WHERE t.name = p_team;
		IF v_team IS NULL THEN
			RAISE EXCEPTION 'unknown team "%"', p_team USING ERRCODE = '22023';
		END IF;
	END IF;
	IF aimeter.is_closed(v_month) THEN
		v_month := aimeter.open_month_after(v_month);
	END IF;
	RETURN QUERY
	INSERT INTO aimeter.billing_adjustments AS a (accounting_month, vendor, account, model, day,
						      team_id, cost_center_id, amount, reason)
	VALUES (v_month, p_vendor, coalesce(p_account, ''), coalesce(p_model, ''), p_day, v_team,
		coalesce(aimeter.team_cost_center(v_team, p_day), 0),
		p_amount, btrim(p_reason))
	RETURNING a.adjustment_id, a.accounting_month;
END
$$;
REVOKE ALL ON FUNCTION aimeter.billing_adjust(text,text,text,date,numeric,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.billing_adjust(text,text,text,date,numeric,text,text)
	TO aimeter_admin;
