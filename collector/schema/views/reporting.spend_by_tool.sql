CREATE OR REPLACE VIEW reporting.spend_by_tool AS
SELECT u.month, u.tool, sum(u.events)::bigint AS events, sum(u.cost) AS cost_usd,
       coalesce(sum(u.cost) FILTER (WHERE u.billing_mode = 'subscription'), 0) AS subscription_usd,
       sum(u.unpriced_events)::bigint AS unpriced_events
  FROM aimeter.usage_monthly u
 GROUP BY u.month, u.tool;
GRANT SELECT ON reporting.spend_by_tool TO aimeter_reader;
