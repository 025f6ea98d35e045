-- First and last day each team used each tool, and how many people ever.
CREATE OR REPLACE VIEW reporting.adoption_tool_reach AS
SELECT t.name AS team, a.tool, min(a.day) AS first_seen, max(a.day) AS last_seen,
       count(DISTINCT a.person_key) AS people_ever
  FROM aimeter.activity_daily a
  JOIN aimeter.teams t ON t.team_id = a.team_id
 WHERE a.tool <> '*'
 GROUP BY t.name, a.team_id, a.tool
-- The people who ever used the tool, not the team's size: first and last
-- day of a tool one person used would date that person's use.
HAVING count(DISTINCT a.person_key) >= (SELECT min_group_size FROM aimeter.settings);
GRANT SELECT ON reporting.adoption_tool_reach TO aimeter_reader;
