-- The cost ledger, live: one line per (accounting month, source, team,
-- cost centre, tool, model, billing mode | subscription). Sources:
--   usage              usage_monthly of the month (service = accounting month)
--   correction         late usage for a closed month, service day given
--   seat_amortization  seat cost expensed in the month (EffectiveCost)
--   seat_purchase      the purchase at the term's start (BilledCost)
--   adjustment         a true-up to the vendor's bill, with its reason
--                      (aimeter.billing_adjustments, docs/reconciliation.md)
-- Subscription usage is an API-equivalent value: list_cost only, never
-- billed or effective (seats are what it costs).
CREATE OR REPLACE VIEW aimeter.ledger_live AS
SELECT u.month AS accounting_month, 'usage'::text AS source, 'Usage'::text AS charge_category,
       NULL::text AS charge_class, u.month AS service_start,
       (u.month + interval '1 month')::date AS service_end, u.team_id, u.cost_center_id,
       u.tool, u.model, u.billing_mode, NULL::int AS subscription_id, u.events,
       u.input_tokens, u.output_tokens, u.cache_write_5m_tokens, u.cache_write_1h_tokens,
       u.cache_read_tokens, u.reasoning_tokens, u.web_search_requests,
       0::numeric AS seat_days, u.cost AS list_cost,
       CASE WHEN u.billing_mode = 'subscription' THEN 0 ELSE u.cost END AS billed_cost,
       CASE WHEN u.billing_mode = 'subscription' THEN 0 ELSE u.cost END AS effective_cost,
       u.unpriced_events, 'USD'::text AS currency
  FROM aimeter.usage_monthly u
UNION ALL
SELECT c.accounting_month, 'correction', 'Usage', 'Correction', c.service_day,
       c.service_day + 1, c.team_id, c.cost_center_id, c.tool, c.model, c.billing_mode, NULL,
       c.events, c.input_tokens, c.output_tokens, c.cache_write_5m_tokens,
       c.cache_write_1h_tokens, c.cache_read_tokens, c.reasoning_tokens,
       c.web_search_requests, 0, c.cost,
       CASE WHEN c.billing_mode = 'subscription' THEN 0 ELSE c.cost END,
       CASE WHEN c.billing_mode = 'subscription' THEN 0 ELSE c.cost END,
       c.unpriced_events, 'USD'
  FROM aimeter.usage_corrections c
 WHERE c.events <> 0 OR c.cost <> 0
UNION ALL
SELECT m.month::date, 'seat_amortization', 'Usage', NULL, greatest(x.term_start, m.month::date),
       least(x.term_end, (m.month + interval '1 month')::date), sc.team_id, sc.cost_center_id,
       coalesce(x.tool, ''), '', '', x.subscription_id, 0, 0, 0, 0, 0, 0, 0, 0, sc.seat_days,
       0, 0, sc.amount, 0, x.currency
  FROM aimeter.subscriptions x
 CROSS JOIN LATERAL generate_series(date_trunc('month', x.term_start), x.term_end - 1,
				    interval '1 month') m(month)
 CROSS JOIN LATERAL aimeter.seat_cost(x.subscription_id, m.month::date,
				      (m.month + interval '1 month')::date) sc
UNION ALL
SELECT date_trunc('month', x.term_start)::date, 'seat_purchase', 'Purchase', NULL,
       x.term_start, x.term_end, NULL, x.cost_center_id, coalesce(x.tool, ''), '', '',
       x.subscription_id, 0, 0, 0, 0, 0, 0, 0, 0, x.seats,
       x.seats * x.price_per_seat, x.seats * x.price_per_seat, 0, 0, x.currency
  FROM aimeter.subscriptions x
UNION ALL
SELECT a.accounting_month, 'adjustment', 'Adjustment', NULL, a.day, a.day + 1, a.team_id,
       a.cost_center_id, '', a.model, 'api', NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, a.amount,
       a.amount, 0, a.currency
  FROM aimeter.billing_adjustments a;
GRANT INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES ON aimeter.ledger_live TO aimeter_admin;
