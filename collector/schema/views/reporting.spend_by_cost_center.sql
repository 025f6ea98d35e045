-- Cost centres of fewer than min_group_size people appear to a plain
-- reader only merged as '(small groups)' (aimeter.small_groups).
CREATE OR REPLACE VIEW reporting.spend_by_cost_center AS
SELECT u.month, CASE WHEN s.key IS NULL THEN c.code ELSE '(small groups)' END AS cost_center,
       CASE WHEN s.key IS NULL THEN c.name END AS cost_center_name,
       sum(u.events)::bigint AS events, sum(u.cost) AS cost_usd,
       coalesce(sum(u.cost) FILTER (WHERE u.billing_mode = 'subscription'), 0) AS subscription_usd,
       sum(u.unpriced_events)::bigint AS unpriced_events
  FROM aimeter.usage_monthly u
  JOIN aimeter.cost_centers c ON c.cost_center_id = u.cost_center_id
  LEFT JOIN aimeter.small_groups('cost_center', NOT aimeter.sees_small_groups()) s
    ON s.month = u.month AND s.key = u.cost_center_id::text
 GROUP BY 1, 2, 3;
GRANT SELECT ON reporting.spend_by_cost_center TO aimeter_reader;
