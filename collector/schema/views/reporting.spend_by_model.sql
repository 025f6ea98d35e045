-- A model used by fewer than min_group_size people appears to a plain
-- reader only merged as '(small groups)' (aimeter.small_groups).
CREATE OR REPLACE VIEW reporting.spend_by_model AS
SELECT u.month, CASE WHEN s.key IS NULL THEN u.model ELSE '(small groups)' END AS model,
       sum(u.events)::bigint AS events, sum(u.cost) AS cost_usd,
       coalesce(sum(u.cost) FILTER (WHERE u.billing_mode = 'subscription'), 0) AS subscription_usd,
       sum(u.unpriced_events)::bigint AS unpriced_events
  FROM aimeter.usage_monthly u
  LEFT JOIN aimeter.small_groups('model', NOT aimeter.sees_small_groups()) s
    ON s.month = u.month AND s.key = u.model
 GROUP BY 1, 2;
GRANT SELECT ON reporting.spend_by_model TO aimeter_reader;
