-- Booked cost per accounting month and team / cost centre: usage at API
-- rates (metered), seat amortisation, corrections; every team listed.
CREATE OR REPLACE VIEW reporting.booked_by_team AS
SELECT l.accounting_month AS month, coalesce(l.team, '(seat pool)') AS team, l.currency,
       sum(l.effective_cost) FILTER (WHERE l.source = 'usage') AS usage_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'seat_amortization') AS seat_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'correction') AS corrections,
       sum(l.effective_cost) AS effective_cost,
       sum(l.list_cost) FILTER (WHERE l.source IN ('usage', 'correction')) AS api_equivalent_cost
  FROM reporting.cost_ledger l
 WHERE l.source <> 'seat_purchase'
 GROUP BY 1, 2, 3;
GRANT SELECT ON reporting.booked_by_team TO aimeter_reader;
