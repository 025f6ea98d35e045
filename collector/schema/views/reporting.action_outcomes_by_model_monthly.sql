-- reporting.action_outcomes_monthly per model too (docs/actions.md): what
-- the AI tools produced per team, tool, model and month, beside the usage
-- cost of the same team, tool, model and month (aimeter.usage_monthly, the
-- spend figure of every view). An action carries no model: it counts under
-- its session's model that UTC day: of the usage events with the same tool
-- and session that day, the model with the highest cost, then the most
-- events, then the first name. An action without a session, or whose
-- session has no usage that day, counts under model '' ("unattributed").
-- Read from the raw rows (action_events, usage_events; a session is not in
-- the rollups), so it covers the months whose raw rows retention keeps.
-- Groups with fewer identified people than settings.min_group_size are not
-- shown.
CREATE OR REPLACE VIEW reporting.action_outcomes_by_model_monthly AS
WITH per_model AS (
	SELECT (e.ts AT TIME ZONE 'UTC')::date AS day, e.tool, e.session, e.model,
	       coalesce(sum(e.cost), 0) AS cost, count(*) AS events
	  FROM aimeter.usage_events e
	 WHERE e.session <> ''
	 GROUP BY 1, 2, 3, 4
), session_model AS (
	SELECT DISTINCT ON (p.day, p.tool, p.session) p.day, p.tool, p.session, p.model
	  FROM per_model p
	 ORDER BY p.day, p.tool, p.session, p.cost DESC, p.events DESC, p.model
), a AS (
	SELECT date_trunc('month', x.ts AT TIME ZONE 'UTC')::date AS month, x.team_id, x.tool,
	       coalesce(sm.model, '') AS model,
	       count(DISTINCT x.person_key) AS people, count(*) AS calls,
	       count(*) FILTER (WHERE x.decision = 'accepted') AS accepted,
	       count(*) FILTER (WHERE x.decision = 'rejected') AS rejected,
	       count(*) FILTER (WHERE x.decision = 'error') AS errors,
	       count(*) FILTER (WHERE x.decision = 'unknown') AS unknown,
	       count(*) FILTER (WHERE x.kind IN ('edit', 'write') AND x.decision = 'accepted')
		       AS accepted_edits,
	       count(*) FILTER (WHERE x.kind IN ('edit', 'write') AND x.decision = 'rejected')
		       AS rejected_edits,
	       sum(x.lines_added)::bigint AS ai_lines_added,
	       sum(x.lines_removed)::bigint AS ai_lines_removed,
	       sum(x.commits)::bigint AS commits, sum(x.pull_requests)::bigint AS pull_requests,
	       count(DISTINCT x.session) FILTER (WHERE x.kind IN ('edit', 'write')
						  AND x.decision = 'accepted') AS sessions
	  FROM aimeter.action_events x
	  LEFT JOIN session_model sm ON x.session <> ''
	       AND sm.day = (x.ts AT TIME ZONE 'UTC')::date AND sm.tool = x.tool
	       AND sm.session = x.session
	 GROUP BY 1, 2, 3, 4
), c AS (
	SELECT u.month, u.team_id, u.tool, u.model, sum(u.cost) AS cost
	  FROM aimeter.usage_monthly u GROUP BY 1, 2, 3, 4
)
SELECT to_char(a.month, 'YYYY-MM') AS month_label, a.month,
       coalesce(t.name, 'unassigned') AS team, a.tool,
       coalesce(nullif(a.model, ''), 'unattributed') AS model, a.people, a.calls, a.accepted,
       a.rejected, a.errors, a.unknown,
       round(a.accepted::numeric / nullif(a.accepted + a.rejected, 0), 4) AS acceptance_rate,
       round(a.accepted_edits::numeric / nullif(a.accepted_edits + a.rejected_edits, 0), 4)
	       AS edit_acceptance_rate,
       a.accepted_edits, a.ai_lines_added, a.ai_lines_removed, a.commits, a.pull_requests,
       a.sessions AS sessions_with_edits,
       f.*
  FROM a
  LEFT JOIN aimeter.teams t ON t.team_id = a.team_id
  LEFT JOIN c ON c.month = a.month AND c.team_id = a.team_id AND c.tool = a.tool
	     AND c.model = a.model
 CROSS JOIN LATERAL aimeter.action_cost_per_outcome(c.cost, a.accepted_edits, a.ai_lines_added,
						     a.commits, a.pull_requests) f
 CROSS JOIN aimeter.settings st
 WHERE a.people >= st.min_group_size;
GRANT SELECT ON reporting.action_outcomes_by_model_monthly TO aimeter_reader;
