-- Reporting ledger with names. team is NULL for the unassigned seat pool.
CREATE OR REPLACE VIEW reporting.cost_ledger AS
SELECT l.accounting_month, l.source, l.charge_category, l.charge_class, l.service_start,
       l.service_end, t.name AS team, c.code AS cost_center, c.name AS cost_center_name,
       l.tool, l.model, l.billing_mode, x.name AS subscription, x.vendor, x.plan, l.events,
       l.input_tokens, l.output_tokens, l.cache_write_5m_tokens, l.cache_write_1h_tokens,
       l.cache_read_tokens, l.reasoning_tokens, l.web_search_requests, l.seat_days,
       l.list_cost, l.billed_cost, l.effective_cost, l.unpriced_events, l.currency,
       l.team_id, l.cost_center_id, l.subscription_id
  FROM aimeter.ledger l
  LEFT JOIN aimeter.teams t ON t.team_id = l.team_id
  LEFT JOIN aimeter.cost_centers c ON c.cost_center_id = l.cost_center_id
  LEFT JOIN aimeter.subscriptions x ON x.subscription_id = l.subscription_id;
-- Line by line, small groups included: finance and admins only (0014).
REVOKE SELECT ON reporting.cost_ledger FROM aimeter_reader;
GRANT SELECT ON reporting.cost_ledger TO aimeter_finance;
