-- Seat cost per month, subscription and team (NULL team: the pool).
CREATE OR REPLACE VIEW reporting.seat_cost_monthly AS
SELECT l.accounting_month AS month, l.subscription, l.vendor, l.plan,
       coalesce(l.team, '(seat pool)') AS team, l.cost_center, l.seat_days,
       l.effective_cost AS amount, l.currency
  FROM reporting.cost_ledger l
 WHERE l.source = 'seat_amortization';
GRANT SELECT ON reporting.seat_cost_monthly TO aimeter_reader;
