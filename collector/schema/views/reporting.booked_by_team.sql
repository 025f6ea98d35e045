-- Booked cost per accounting month and team / cost centre: usage at API
-- rates (metered), seat amortisation, corrections; every team listed, those
-- of fewer than min_group_size people merged for a plain reader.
CREATE OR REPLACE VIEW reporting.booked_by_team AS
SELECT l.accounting_month AS month,
       CASE WHEN s.key IS NULL THEN coalesce(l.team, '(seat pool)') ELSE '(small groups)' END AS team, l.currency,
       sum(l.effective_cost) FILTER (WHERE l.source = 'usage') AS usage_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'seat_amortization') AS seat_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'correction') AS corrections,
       sum(l.effective_cost) AS effective_cost,
       sum(l.list_cost) FILTER (WHERE l.source IN ('usage', 'correction')) AS api_equivalent_cost
  FROM reporting.cost_ledger l
  LEFT JOIN aimeter.small_groups('team', NOT aimeter.sees_small_groups()) s
    ON s.month = l.accounting_month AND s.key = l.team_id::text
 WHERE l.source <> 'seat_purchase'
 GROUP BY 1, 2, 3;
GRANT SELECT ON reporting.booked_by_team TO aimeter_reader;
