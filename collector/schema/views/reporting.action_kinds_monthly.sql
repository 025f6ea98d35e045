-- Tool calls per team, tool, kind and decision and month, with their lines,
-- commits and pull requests; groups below settings.min_group_size
-- identified people are not shown.
CREATE OR REPLACE VIEW reporting.action_kinds_monthly AS
SELECT to_char(date_trunc('month', d.day), 'YYYY-MM') AS month_label,
       date_trunc('month', d.day)::date AS month, coalesce(t.name, 'unassigned') AS team,
       d.tool, d.kind, d.decision,
       count(DISTINCT d.person_key) FILTER (WHERE d.person_key <> ''::bytea) AS people,
       sum(d.calls)::bigint AS calls, sum(d.lines_added)::bigint AS lines_added,
       sum(d.lines_removed)::bigint AS lines_removed,
       sum(d.proposed_lines_added)::bigint AS proposed_lines_added,
       sum(d.proposed_lines_removed)::bigint AS proposed_lines_removed,
       sum(d.commits)::bigint AS commits, sum(d.pull_requests)::bigint AS pull_requests
  FROM aimeter.actions_daily d
  LEFT JOIN aimeter.teams t ON t.team_id = d.team_id
 GROUP BY 1, 2, 3, 4, 5, 6
HAVING count(DISTINCT d.person_key) FILTER (WHERE d.person_key <> ''::bytea)
       >= (SELECT min_group_size FROM aimeter.settings);
GRANT SELECT ON reporting.action_kinds_monthly TO aimeter_reader;
