-- Adjustments booked against vendor bills, with their reasons (append-only).
CREATE OR REPLACE VIEW reporting.billing_adjustments AS
SELECT a.adjustment_id, a.accounting_month, a.vendor, a.account, a.model, a.day,
       t.name AS team, c.code AS cost_center, a.amount, a.currency, a.reason, a.booked_by,
       a.booked_at
  FROM aimeter.billing_adjustments a
  LEFT JOIN aimeter.teams t ON t.team_id = a.team_id
  LEFT JOIN aimeter.cost_centers c ON c.cost_center_id = a.cost_center_id;
GRANT SELECT ON reporting.billing_adjustments TO aimeter_reader;
