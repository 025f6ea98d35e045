-- The sub-agents, skills and MCP servers in use per team and month: people
-- and calls. Names as the agent sent them: hashed ("h:<hex>") unless on its
-- allowlist or built in. A name fewer than settings.min_group_size
-- identified people used is not shown.
CREATE OR REPLACE VIEW reporting.action_inventory_monthly AS
SELECT to_char(date_trunc('month', d.day), 'YYYY-MM') AS month_label,
       date_trunc('month', d.day)::date AS month, coalesce(t.name, 'unassigned') AS team,
       d.kind, coalesce(nullif(d.target, ''), d.tool_name) AS name,
       count(DISTINCT d.person_key) FILTER (WHERE d.person_key <> ''::bytea) AS people,
       sum(d.calls)::bigint AS calls
  FROM aimeter.actions_daily d
  LEFT JOIN aimeter.teams t ON t.team_id = d.team_id
 WHERE d.kind IN ('subagent', 'skill', 'mcp')
 GROUP BY 1, 2, 3, 4, 5
HAVING count(DISTINCT d.person_key) FILTER (WHERE d.person_key <> ''::bytea)
       >= (SELECT min_group_size FROM aimeter.settings);
GRANT SELECT ON reporting.action_inventory_monthly TO aimeter_reader;
