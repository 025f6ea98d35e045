-- aimeter.small_groups(dimension, apply): per month, the cells of one
-- dimension ('team', 'cost_center', 'tool' or 'model'; keys as text) that a
-- plain reader sees only merged, by the distinct people behind them in
-- usage_daily:
--   - a cell of fewer than min_group_size people (primary suppression);
--   - then, in a month with such a cell, the next smallest cells until the
--     hidden cells hold min_group_size people together (complementary
--     suppression): a month's total minus its visible cells never isolates
--     a small group. People are summed across hidden cells, which is exact
--     for teams and cost centres (a person's day has one of each) and an
--     upper bound for tools and models.
-- A cell of events without identities counts no people, so it is hidden.
-- apply false (a role that sees small groups) returns nothing and reads
-- nothing.
CREATE OR REPLACE FUNCTION aimeter.small_groups(p_dimension text, p_apply boolean)
RETURNS TABLE (month date, key text, people bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH cells AS (
		SELECT date_trunc('month', d.day)::date AS month,
		       CASE p_dimension
			    WHEN 'team' THEN d.team_id::text
			    WHEN 'cost_center' THEN d.cost_center_id::text
			    WHEN 'tool' THEN d.tool
			    WHEN 'model' THEN d.model
		       END AS key,
		       count(DISTINCT d.person_key) FILTER (WHERE d.person_key <> '') AS people
		  FROM aimeter.usage_daily d
		 WHERE p_apply
		 GROUP BY 1, 2),
	ranked AS (
		SELECT c.month, c.key, c.people, s.min_group_size AS k,
		       sum(c.people) OVER w - c.people AS people_before,
		       bool_or(c.people < s.min_group_size) OVER (PARTITION BY c.month) AS month_has_small
		  FROM cells c CROSS JOIN aimeter.settings s
		WINDOW w AS (PARTITION BY c.month ORDER BY c.people, c.key ROWS UNBOUNDED PRECEDING))
	SELECT r.month, r.key, r.people FROM ranked r
	 WHERE r.people < r.k OR (r.month_has_small AND r.people_before < r.k)
$$;
REVOKE ALL ON FUNCTION aimeter.small_groups(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.small_groups(text, boolean) TO aimeter_reader, aimeter_admin;
