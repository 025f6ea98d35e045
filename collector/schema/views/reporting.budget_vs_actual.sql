-- Budgets against actual and forecast as of today (UTC); the figures and
-- their rules: aimeter.budget_vs_actual(as_of). A plain reader does not see
-- the budget of a team or cost centre that the spend views merge into
-- '(small groups)' that month: its actual is that group's spend.
CREATE OR REPLACE VIEW reporting.budget_vs_actual AS
WITH merged AS (
	SELECT 'team' AS scope, to_char(s.month, 'YYYY-MM') AS month, t.name
	  FROM aimeter.small_groups('team', NOT aimeter.sees_small_groups()) s
	  JOIN aimeter.teams t ON t.team_id::text = s.key
	UNION ALL
	SELECT 'cost_center', to_char(s.month, 'YYYY-MM'), c.code
	  FROM aimeter.small_groups('cost_center', NOT aimeter.sees_small_groups()) s
	  JOIN aimeter.cost_centers c ON c.cost_center_id::text = s.key)
SELECT b.* FROM aimeter.budget_vs_actual((now() AT TIME ZONE 'UTC')::date) b
 WHERE NOT EXISTS (SELECT 1 FROM merged m
		    WHERE m.scope = b.scope AND m.month = b.month AND m.name = b.name);
GRANT SELECT ON reporting.budget_vs_actual TO aimeter_reader;
