-- Daily active people per team and tool ('all' = any tool).
CREATE OR REPLACE VIEW reporting.adoption_daily AS
SELECT a.day, t.name AS team, CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       a.active_people, hc.headcount,
       round(a.active_people::numeric / nullif(hc.headcount, 0), 4) AS active_share
  FROM (SELECT day, team_id, tool, count(*) AS active_people
	  FROM aimeter.activity_daily GROUP BY 1, 2, 3) a
  JOIN (SELECT day, team_id, count(*) AS n
	  FROM aimeter.activity_daily WHERE tool = '*' GROUP BY 1, 2) g
    ON g.day = a.day AND g.team_id = a.team_id
  JOIN aimeter.teams t ON t.team_id = a.team_id
 CROSS JOIN LATERAL (SELECT aimeter.team_headcount(a.team_id, a.day) AS headcount) hc
 CROSS JOIN aimeter.settings s
 WHERE greatest(hc.headcount, g.n) >= s.min_group_size
   -- A tool's row names who uses it: it needs the minimum of its own.
   AND (a.tool = '*' OR a.active_people >= s.min_group_size);
GRANT SELECT ON reporting.adoption_daily TO aimeter_reader;
