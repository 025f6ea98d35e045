CREATE OR REPLACE VIEW reporting.spend_by_cost_center AS
SELECT u.month, c.code AS cost_center, c.name AS cost_center_name,
       sum(u.events)::bigint AS events, sum(u.cost) AS cost_usd,
       coalesce(sum(u.cost) FILTER (WHERE u.billing_mode = 'subscription'), 0) AS subscription_usd,
       sum(u.unpriced_events)::bigint AS unpriced_events
  FROM aimeter.usage_monthly u
  JOIN aimeter.cost_centers c ON c.cost_center_id = u.cost_center_id
 GROUP BY u.month, c.code, c.name;
GRANT SELECT ON reporting.spend_by_cost_center TO aimeter_reader;
