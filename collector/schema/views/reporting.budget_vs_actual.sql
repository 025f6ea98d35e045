CREATE OR REPLACE VIEW reporting.budget_vs_actual AS
WITH b AS (
	SELECT DISTINCT ON (x.team_id, x.cost_center_id, x.month) x.*
	  FROM aimeter.budgets x
	 ORDER BY x.team_id, x.cost_center_id, x.month, x.created_at DESC, x.budget_id DESC
)
SELECT b.budget_id, to_char(b.month, 'YYYY-MM') AS month,
       CASE WHEN b.team_id IS NOT NULL THEN 'team' ELSE 'cost_center' END AS scope,
       coalesce(t.name, c.code) AS name, b.version, b.currency, b.amount AS budget, a.actual,
       round(a.actual * 100 / b.amount, 2) AS pct_used,
       ARRAY(SELECT th FROM unnest(b.thresholds) th WHERE a.actual * 100 >= b.amount * th
	      ORDER BY th) AS thresholds_crossed,
       (SELECT max(th) FROM unnest(b.thresholds) th WHERE a.actual * 100 >= b.amount * th)
	       AS highest_threshold,
       CASE WHEN b.month = date_trunc('month', now() AT TIME ZONE 'UTC')::date
	    THEN round(a.actual
		       * extract(day FROM b.month + interval '1 month' - b.month)::numeric
		       / greatest(extract(day FROM now() AT TIME ZONE 'UTC')::numeric, 1), 6)
	    ELSE a.actual END AS forecast,
       b.thresholds
  FROM b
  LEFT JOIN aimeter.teams t ON t.team_id = b.team_id
  LEFT JOIN aimeter.cost_centers c ON c.cost_center_id = b.cost_center_id
 CROSS JOIN LATERAL (
	SELECT coalesce(sum(l.effective_cost), 0) AS actual
	  FROM aimeter.ledger l
	 WHERE l.accounting_month = b.month AND l.currency = b.currency
	   AND l.source <> 'seat_purchase'
	   AND (l.team_id = b.team_id OR l.cost_center_id = b.cost_center_id)) a;
GRANT SELECT ON reporting.budget_vs_actual TO aimeter_reader;
