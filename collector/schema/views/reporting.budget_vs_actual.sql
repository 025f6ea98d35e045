-- Budgets against actual and forecast as of today (UTC); the figures and
-- their rules: aimeter.budget_vs_actual(as_of).
CREATE OR REPLACE VIEW reporting.budget_vs_actual AS
SELECT * FROM aimeter.budget_vs_actual((now() AT TIME ZONE 'UTC')::date);
GRANT SELECT ON reporting.budget_vs_actual TO aimeter_reader;
