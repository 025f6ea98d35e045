CREATE OR REPLACE VIEW reporting.adoption_monthly_by_tool AS
SELECT to_char(a.month, 'YYYY-MM') AS month_label, a.month,
       CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       count(DISTINCT a.person_key) AS active_people, sum(a.active_days) AS person_days
  FROM aimeter.activity_monthly a
 GROUP BY a.month, a.tool
HAVING count(DISTINCT a.person_key) >= (SELECT min_group_size FROM aimeter.settings);
GRANT SELECT ON reporting.adoption_monthly_by_tool TO aimeter_reader;
