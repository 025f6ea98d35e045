-- aimeter.budget_vs_actual(as_of): each budget (its latest version) against
-- the ledger lines of its month and scope, seat purchases left out (their
-- amortisation counts), in the budget's currency at the FX rate of the
-- month's last day, or of as_of in the month (aimeter.fx_rate).
--   actual   = usage + seat amortisation + corrections and other lines
--   forecast = in as_of's month: the usage run-rate (usage so far x days in
--              the month / as_of's day) + the month's known seat cost +
--              corrections as booked; neither of the last two grows with
--              time, so extrapolating them overstated early forecasts ~10x.
--              Other months: actual.
-- A currency with no rate is listed in fx_missing and makes actual and
-- forecast NULL: a line is never dropped from a total.
CREATE OR REPLACE FUNCTION aimeter.budget_vs_actual(p_as_of date)
RETURNS TABLE (budget_id bigint, month text, scope text, name text, version text,
	       currency text, budget numeric, actual numeric, pct_used numeric,
	       thresholds_crossed int[], highest_threshold int, forecast numeric,
	       thresholds int[], usage_actual numeric, seat_cost numeric, booked_other numeric,
	       fx_day date, fx_missing text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH b AS (
		SELECT DISTINCT ON (x.team_id, x.cost_center_id, x.month) x.*,
		       least(p_as_of, (x.month + interval '1 month')::date - 1) AS rate_day,
		       ((x.month + interval '1 month')::date - x.month)::numeric AS month_days,
		       date_trunc('month', p_as_of)::date = x.month AS running
		  FROM aimeter.budgets x
		 ORDER BY x.team_id, x.cost_center_id, x.month, x.created_at DESC, x.budget_id DESC
	), line AS (
		-- amount NULL: no rate for a non-zero line
		SELECT b.budget_id, l.source, l.currency,
		       CASE WHEN l.effective_cost = 0 THEN 0
			    ELSE l.effective_cost * aimeter.fx_rate(l.currency, b.currency, b.rate_day)
		       END AS amount
		  FROM b JOIN aimeter.ledger l ON l.accounting_month = b.month
		 WHERE l.source <> 'seat_purchase'
		   AND (l.team_id = b.team_id OR l.cost_center_id = b.cost_center_id)
	), s AS (
		SELECT line.budget_id,
		       coalesce(sum(line.amount) FILTER (WHERE line.source = 'usage'), 0) AS used,
		       coalesce(sum(line.amount) FILTER (WHERE line.source = 'seat_amortization'), 0)
			       AS seats,
		       coalesce(sum(line.amount)
				FILTER (WHERE line.source NOT IN ('usage', 'seat_amortization')), 0)
			       AS other,
		       array_agg(DISTINCT line.currency ORDER BY line.currency)
			       FILTER (WHERE line.amount IS NULL) AS missing
		  FROM line GROUP BY line.budget_id
	), a AS (
		SELECT b.*, s.missing,
		       CASE WHEN s.missing IS NULL THEN coalesce(s.used, 0) END AS used,
		       CASE WHEN s.missing IS NULL THEN coalesce(s.seats, 0) END AS seats,
		       CASE WHEN s.missing IS NULL THEN coalesce(s.other, 0) END AS other
		  FROM b LEFT JOIN s ON s.budget_id = b.budget_id
	), f AS (
		SELECT a.*, a.used + a.seats + a.other AS total
		  FROM a
	)
	SELECT f.budget_id, to_char(f.month, 'YYYY-MM'),
	       CASE WHEN f.team_id IS NOT NULL THEN 'team' ELSE 'cost_center' END,
	       coalesce(t.name, c.code), f.version, f.currency, f.amount, f.total,
	       round(f.total * 100 / f.amount, 2),
	       ARRAY(SELECT th FROM unnest(f.thresholds) th WHERE f.total * 100 >= f.amount * th
		      ORDER BY th),
	       (SELECT max(th) FROM unnest(f.thresholds) th WHERE f.total * 100 >= f.amount * th),
	       CASE WHEN f.running
		    THEN round(f.used * f.month_days / extract(day FROM p_as_of)::numeric, 6)
			 + f.seats + f.other
		    ELSE f.total END,
	       f.thresholds, f.used, f.seats, f.other, f.rate_day, f.missing
	  FROM f
	  LEFT JOIN aimeter.teams t ON t.team_id = f.team_id
	  LEFT JOIN aimeter.cost_centers c ON c.cost_center_id = f.cost_center_id
$$;
REVOKE ALL ON FUNCTION aimeter.budget_vs_actual(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.budget_vs_actual(date) TO aimeter_reader, aimeter_admin;
