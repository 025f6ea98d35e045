-- Cost per active person per month and team: metered usage plus seats
-- (effective cost, corrections included) over monthly active people.
CREATE OR REPLACE VIEW reporting.cost_per_active_person AS
SELECT b.month, b.team, b.currency, b.effective_cost, a.active_people,
       round(b.effective_cost / nullif(a.active_people, 0), 6) AS cost_per_active_person,
       round(b.api_equivalent_cost / nullif(a.active_people, 0), 6)
	       AS api_equivalent_per_active_person
  FROM reporting.booked_by_team b
  JOIN reporting.adoption_monthly a ON a.month = b.month AND a.team = b.team AND a.tool = 'all';
GRANT SELECT ON reporting.cost_per_active_person TO aimeter_reader;
