-- reporting.billing_variance(from, to, threshold_pct, threshold_usd): per
-- vendor, account, model and UTC day in [from, to), aimeter's estimate
-- (metered usage and late corrections, by service day) against what the
-- vendor billed (cost lines, USD), the adjustments booked for the same key,
-- and what is left. Only days a cost pull or invoice of that vendor covers
-- are compared (elsewhere nothing billed is known). A usage row counts
-- under the account its team is mapped to (aimeter.billing_accounts); a
-- billed line under its own account when some team maps to it; both under
-- '' otherwise. Money is rounded to the cent first, so the columns add up:
-- difference = billed - estimated, residual = difference - adjusted;
-- percentages are of the estimate (NULL when it is 0). A row is flagged
-- when its residual is non-zero, at least threshold_usd, and at least
-- threshold_pct of the estimate (docs/reconciliation.md).
CREATE OR REPLACE FUNCTION reporting.billing_variance(p_from date, p_to date,
						      p_threshold_pct numeric,
						      p_threshold_usd numeric)
RETURNS TABLE (vendor text, account text, model text, day date, estimated_usd numeric,
	       billed_usd numeric, difference_usd numeric, difference_pct numeric,
	       adjusted_usd numeric, residual_usd numeric, estimated_tokens numeric,
	       billed_tokens numeric, flagged boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH covered AS (
		SELECT DISTINCT p.vendor, d::date AS day
		  FROM aimeter.billing_pulls p
		 CROSS JOIN LATERAL generate_series(greatest(p.period_start, p_from),
						    least(p.period_end, p_to) - 1,
						    interval '1 day') d
		 WHERE p.source IN ('anthropic_cost_report', 'openai_costs', 'invoice')
	), est AS (
		SELECT aimeter.billing_vendor(u.tool, u.model, u.billing_mode) AS vendor, u.team_id,
		       u.model, u.day, u.cost,
		       u.input_tokens + u.output_tokens + u.cache_write_5m_tokens
		       + u.cache_write_1h_tokens + u.cache_read_tokens AS tokens
		  FROM aimeter.usage_daily u
		 WHERE u.day >= p_from AND u.day < p_to
		UNION ALL
		SELECT aimeter.billing_vendor(c.tool, c.model, c.billing_mode), c.team_id, c.model,
		       c.service_day, c.cost,
		       c.input_tokens + c.output_tokens + c.cache_write_5m_tokens
		       + c.cache_write_1h_tokens + c.cache_read_tokens
		  FROM aimeter.usage_corrections c
		 WHERE c.service_day >= p_from AND c.service_day < p_to
	), e AS (
		SELECT x.vendor, coalesce(a.account, '') AS account, x.model, x.day,
		       sum(x.cost) AS usd, sum(x.tokens) AS tokens
		  FROM est x
		  LEFT JOIN aimeter.billing_accounts a ON a.vendor = x.vendor AND a.team_id = x.team_id
		 WHERE x.vendor IS NOT NULL
		 GROUP BY 1, 2, 3, 4
	), b AS (
		SELECT l.vendor,
		       CASE WHEN EXISTS (SELECT 1 FROM aimeter.billing_accounts a
					  WHERE a.vendor = l.vendor AND a.account = l.account)
			    THEN l.account ELSE '' END AS account,
		       l.model, l.day,
		       coalesce(sum(l.amount) FILTER (WHERE l.kind = 'cost'), 0) AS usd,
		       sum(l.input_tokens + l.output_tokens + l.cache_read_tokens
			   + l.cache_write_tokens) FILTER (WHERE l.kind = 'usage') AS tokens
		  FROM aimeter.billed_lines l
		 WHERE l.day >= p_from AND l.day < p_to AND l.kind IN ('cost', 'usage')
		   AND l.currency = 'USD'
		 GROUP BY 1, 2, 3, 4
	), j AS (
		SELECT k.vendor, k.account, k.model, k.day,
		       round(coalesce(e.usd, 0), 2) AS est, round(coalesce(b.usd, 0), 2) AS billed,
		       round(coalesce((SELECT sum(x.amount) FROM aimeter.billing_adjustments x
				       WHERE x.vendor = k.vendor AND x.account = k.account
					 AND x.model = k.model AND x.day = k.day), 0), 2) AS adj,
		       e.tokens AS est_tokens, b.tokens AS billed_tokens
		  FROM (SELECT vendor, account, model, day FROM e
			UNION SELECT vendor, account, model, day FROM b
			UNION SELECT x.vendor, x.account, x.model, x.day FROM aimeter.billing_adjustments x
			 WHERE x.day >= p_from AND x.day < p_to) k
		  JOIN covered c ON c.vendor = k.vendor AND c.day = k.day
		  LEFT JOIN e ON (e.vendor, e.account, e.model, e.day) = (k.vendor, k.account, k.model, k.day)
		  LEFT JOIN b ON (b.vendor, b.account, b.model, b.day) = (k.vendor, k.account, k.model, k.day)
	)
	SELECT j.vendor, j.account, j.model, j.day, j.est, j.billed, j.billed - j.est,
	       CASE WHEN j.est <> 0 THEN round(100 * (j.billed - j.est) / j.est, 2) END, j.adj,
	       j.billed - j.est - j.adj, j.est_tokens, j.billed_tokens,
	       j.billed - j.est - j.adj <> 0
	       AND abs(j.billed - j.est - j.adj) >= p_threshold_usd
	       AND (j.est = 0 OR 100 * abs(j.billed - j.est - j.adj) / abs(j.est) >= p_threshold_pct)
	  FROM j
	 ORDER BY j.vendor, j.day, j.account, j.model
$$;
REVOKE ALL ON FUNCTION reporting.billing_variance(date,date,numeric,numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.billing_variance(date,date,numeric,numeric)
	TO aimeter_reader;
