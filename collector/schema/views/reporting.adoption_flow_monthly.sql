CREATE OR REPLACE VIEW reporting.adoption_flow_monthly AS
SELECT to_char(m.month, 'YYYY-MM') AS month_label, m.month, s.*
  FROM (SELECT DISTINCT month FROM aimeter.activity_monthly) m
 CROSS JOIN LATERAL aimeter.adoption_summary('month', m.month) s;
GRANT SELECT ON reporting.adoption_flow_monthly TO aimeter_reader;
