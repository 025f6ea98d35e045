-- aimeter.action_cost_per_outcome(cost, accepted_edits, ai_lines, commits,
-- pull_requests): the cost columns of the action outcome views, defined
-- once so they agree: the cost (0 when none) and the cost per accepted
-- edit, per 1,000 AI lines, per commit and per pull request, rounded to
-- 6 places; NULL where there is no cost or no outcome.
CREATE OR REPLACE FUNCTION aimeter.action_cost_per_outcome(p_cost numeric,
		p_accepted_edits bigint, p_ai_lines bigint, p_commits bigint,
		p_pull_requests bigint,
		OUT cost_usd numeric, OUT cost_per_accepted_edit numeric,
		OUT cost_per_1k_ai_lines numeric, OUT cost_per_commit numeric,
		OUT cost_per_pull_request numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT round(coalesce(p_cost, 0), 6),
	       round(p_cost / nullif(p_accepted_edits, 0), 6),
	       round(p_cost * 1000 / nullif(p_ai_lines, 0), 6),
	       round(p_cost / nullif(p_commits, 0), 6),
	       round(p_cost / nullif(p_pull_requests, 0), 6)
$$;
REVOKE ALL ON FUNCTION aimeter.action_cost_per_outcome(numeric,bigint,bigint,bigint,bigint)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.action_cost_per_outcome(numeric,bigint,bigint,bigint,bigint)
	TO aimeter_reader, aimeter_admin;
