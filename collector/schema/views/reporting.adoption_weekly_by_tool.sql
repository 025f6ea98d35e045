-- Company-wide active people per tool (a person counted once across
-- teams); rows with fewer active people than the minimum group size are
-- left out.
CREATE OR REPLACE VIEW reporting.adoption_weekly_by_tool AS
SELECT to_char(a.week, 'IYYY-"W"IW') AS iso_week, a.week AS week_start,
       CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       count(DISTINCT a.person_key) AS active_people, sum(a.active_days) AS person_days
  FROM aimeter.activity_weekly a
 GROUP BY a.week, a.tool
HAVING count(DISTINCT a.person_key) >= (SELECT min_group_size FROM aimeter.settings);
GRANT SELECT ON reporting.adoption_weekly_by_tool TO aimeter_reader;
