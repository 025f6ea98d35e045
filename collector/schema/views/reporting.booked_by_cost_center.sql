CREATE OR REPLACE VIEW reporting.booked_by_cost_center AS
SELECT l.accounting_month AS month,
       CASE WHEN s.key IS NULL THEN l.cost_center ELSE '(small groups)' END AS cost_center, l.currency,
       sum(l.effective_cost) FILTER (WHERE l.source = 'usage') AS usage_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'seat_amortization') AS seat_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'correction') AS corrections,
       sum(l.effective_cost) AS effective_cost,
       sum(l.list_cost) FILTER (WHERE l.source IN ('usage', 'correction')) AS api_equivalent_cost
  FROM reporting.cost_ledger l
  LEFT JOIN aimeter.small_groups('cost_center', NOT aimeter.sees_small_groups()) s
    ON s.month = l.accounting_month AND s.key = l.cost_center_id::text
 WHERE l.source <> 'seat_purchase'
 GROUP BY 1, 2, 3;
GRANT SELECT ON reporting.booked_by_cost_center TO aimeter_reader;
