-- Monthly active people per team and tool; stickiness = average daily
-- active people / monthly active people.
CREATE OR REPLACE VIEW reporting.adoption_monthly AS
SELECT to_char(a.month, 'YYYY-MM') AS month_label, a.month, t.name AS team,
       CASE a.tool WHEN '*' THEN 'all' ELSE a.tool END AS tool,
       a.active_people, a.person_days, hc.headcount,
       round(a.active_people::numeric / nullif(hc.headcount, 0), 4) AS active_share,
       round(a.person_days::numeric
	     / extract(day FROM a.month + interval '1 month' - a.month)::numeric
	     / a.active_people, 4) AS stickiness
  FROM (SELECT month, team_id, tool, count(*) AS active_people, sum(active_days) AS person_days
	  FROM aimeter.activity_monthly GROUP BY 1, 2, 3) a
  JOIN (SELECT month, team_id, count(*) AS n
	  FROM aimeter.activity_monthly WHERE tool = '*' GROUP BY 1, 2) g
    ON g.month = a.month AND g.team_id = a.team_id
  JOIN aimeter.teams t ON t.team_id = a.team_id
 CROSS JOIN LATERAL (SELECT aimeter.team_headcount(a.team_id,
			(a.month + interval '1 month' - interval '1 day')::date) AS headcount) hc
 CROSS JOIN aimeter.settings s
 WHERE greatest(hc.headcount, g.n) >= s.min_group_size
   -- A tool's row names who uses it: it needs the minimum of its own.
   AND (a.tool = '*' OR a.active_people >= s.min_group_size);
GRANT SELECT ON reporting.adoption_monthly TO aimeter_reader;
