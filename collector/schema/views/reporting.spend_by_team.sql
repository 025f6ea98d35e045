-- Reporting views (docs/reporting.md). They read the monthly rollup; the
-- reader role sees no raw rows and no identities.
CREATE OR REPLACE VIEW reporting.spend_by_team AS
SELECT u.month, t.name AS team, pt.name AS parent_team, sum(u.events)::bigint AS events,
       sum(u.cost) AS cost_usd,
       coalesce(sum(u.cost) FILTER (WHERE u.billing_mode = 'subscription'), 0) AS subscription_usd,
       sum(u.unpriced_events)::bigint AS unpriced_events
  FROM aimeter.usage_monthly u
  JOIN aimeter.teams t ON t.team_id = u.team_id
  LEFT JOIN aimeter.teams pt ON pt.team_id = t.parent_team_id
 GROUP BY u.month, t.name, pt.name;
GRANT SELECT ON reporting.spend_by_team TO aimeter_reader;
