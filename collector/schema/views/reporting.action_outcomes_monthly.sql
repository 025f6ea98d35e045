-- What the AI tools produced per team, tool and month (docs/actions.md) and
-- the usage cost of the same team, tool and month beside it. Acceptance
-- rate = accepted / (accepted + rejected); AI lines are applied lines of
-- accepted edits and writes. Groups with fewer identified people than
-- settings.min_group_size are not shown.
CREATE OR REPLACE VIEW reporting.action_outcomes_monthly AS
WITH a AS (
	SELECT date_trunc('month', d.day)::date AS month, d.team_id, d.tool,
	       count(DISTINCT d.person_key) FILTER (WHERE d.person_key <> ''::bytea) AS people,
	       sum(d.calls)::bigint AS calls,
	       coalesce(sum(d.calls) FILTER (WHERE d.decision = 'accepted'), 0)::bigint AS accepted,
	       coalesce(sum(d.calls) FILTER (WHERE d.decision = 'rejected'), 0)::bigint AS rejected,
	       coalesce(sum(d.calls) FILTER (WHERE d.decision = 'error'), 0)::bigint AS errors,
	       coalesce(sum(d.calls) FILTER (WHERE d.decision = 'unknown'), 0)::bigint AS unknown,
	       coalesce(sum(d.calls) FILTER (WHERE d.kind IN ('edit', 'write')
					      AND d.decision = 'accepted'), 0)::bigint AS accepted_edits,
	       coalesce(sum(d.calls) FILTER (WHERE d.kind IN ('edit', 'write')
					      AND d.decision = 'rejected'), 0)::bigint AS rejected_edits,
	       sum(d.lines_added)::bigint AS ai_lines_added,
	       sum(d.lines_removed)::bigint AS ai_lines_removed,
	       sum(d.commits)::bigint AS commits, sum(d.pull_requests)::bigint AS pull_requests
	  FROM aimeter.actions_daily d
	 GROUP BY 1, 2, 3
), c AS (
	SELECT u.month, u.team_id, u.tool, sum(u.cost) AS cost
	  FROM aimeter.usage_monthly u GROUP BY 1, 2, 3
), s AS (
	SELECT date_trunc('month', e.day)::date AS month, e.team_id, e.tool,
	       count(DISTINCT e.session) AS sessions
	  FROM aimeter.action_edit_sessions e GROUP BY 1, 2, 3
)
SELECT to_char(a.month, 'YYYY-MM') AS month_label, a.month,
       coalesce(t.name, 'unassigned') AS team, a.tool, a.people, a.calls, a.accepted,
       a.rejected, a.errors, a.unknown,
       round(a.accepted::numeric / nullif(a.accepted + a.rejected, 0), 4) AS acceptance_rate,
       round(a.accepted_edits::numeric / nullif(a.accepted_edits + a.rejected_edits, 0), 4)
	       AS edit_acceptance_rate,
       a.accepted_edits, a.ai_lines_added, a.ai_lines_removed, a.commits, a.pull_requests,
       coalesce(s.sessions, 0)::bigint AS sessions_with_edits,
       f.*
  FROM a
  LEFT JOIN aimeter.teams t ON t.team_id = a.team_id
  LEFT JOIN c ON c.month = a.month AND c.team_id = a.team_id AND c.tool = a.tool
  LEFT JOIN s ON s.month = a.month AND s.team_id = a.team_id AND s.tool = a.tool
 CROSS JOIN LATERAL aimeter.action_cost_per_outcome(c.cost, a.accepted_edits, a.ai_lines_added,
						     a.commits, a.pull_requests) f
 CROSS JOIN aimeter.settings st
 WHERE a.people >= st.min_group_size;
GRANT SELECT ON reporting.action_outcomes_monthly TO aimeter_reader;
