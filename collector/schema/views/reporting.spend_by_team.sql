-- Reporting views (docs/reporting.md). They read the monthly rollup; the
-- reader role sees no raw rows and no identities, and teams of fewer than
-- min_group_size people only merged as '(small groups)' (aimeter.small_groups).
CREATE OR REPLACE VIEW reporting.spend_by_team AS
SELECT u.month, CASE WHEN s.key IS NULL THEN t.name ELSE '(small groups)' END AS team,
       CASE WHEN s.key IS NULL THEN pt.name END AS parent_team, sum(u.events)::bigint AS events,
       sum(u.cost) AS cost_usd,
       coalesce(sum(u.cost) FILTER (WHERE u.billing_mode = 'subscription'), 0) AS subscription_usd,
       sum(u.unpriced_events)::bigint AS unpriced_events
  FROM aimeter.usage_monthly u
  JOIN aimeter.teams t ON t.team_id = u.team_id
  LEFT JOIN aimeter.teams pt ON pt.team_id = t.parent_team_id
  LEFT JOIN aimeter.small_groups('team', NOT aimeter.sees_small_groups()) s
    ON s.month = u.month AND s.key = u.team_id::text
 GROUP BY 1, 2, 3;
GRANT SELECT ON reporting.spend_by_team TO aimeter_reader;
