-- The same for every week and month with data, as views.
CREATE OR REPLACE VIEW reporting.adoption_flow_weekly AS
SELECT to_char(w.week, 'IYYY-"W"IW') AS iso_week, w.week AS week_start, s.*
  FROM (SELECT DISTINCT week FROM aimeter.activity_weekly) w
 CROSS JOIN LATERAL aimeter.adoption_summary('week', w.week) s;
GRANT SELECT ON reporting.adoption_flow_weekly TO aimeter_reader;
