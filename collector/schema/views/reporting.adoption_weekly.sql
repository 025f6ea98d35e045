-- Weekly (ISO weeks, Monday to Sunday) active people per team and tool.
CREATE OR REPLACE VIEW reporting.adoption_weekly AS
SELECT to_char(a.week, 'IYYY-"W"IW') AS iso_week, a.week AS week_start, t.name AS team,
       CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       a.active_people, a.person_days, hc.headcount,
       round(a.active_people::numeric / nullif(hc.headcount, 0), 4) AS active_share
  FROM (SELECT week, team_id, tool, count(*) AS active_people, sum(active_days) AS person_days
	  FROM aimeter.activity_weekly GROUP BY 1, 2, 3) a
  JOIN (SELECT week, team_id, count(*) AS n
	  FROM aimeter.activity_weekly WHERE tool = '*' GROUP BY 1, 2) g
    ON g.week = a.week AND g.team_id = a.team_id
  JOIN aimeter.teams t ON t.team_id = a.team_id
 CROSS JOIN LATERAL (SELECT aimeter.team_headcount(a.team_id, a.week + 6) AS headcount) hc
 CROSS JOIN aimeter.settings s
 WHERE greatest(hc.headcount, g.n) >= s.min_group_size
   -- A tool's row names who uses it: it needs the minimum of its own.
   AND (a.tool = '*' OR a.active_people >= s.min_group_size);
GRANT SELECT ON reporting.adoption_weekly TO aimeter_reader;
