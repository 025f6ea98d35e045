-- Models seen without a price row: add one to the price book.
CREATE OR REPLACE VIEW reporting.unpriced_models AS
SELECT u.model, u.tool, min(u.month) AS first_month, max(u.month) AS last_month,
       sum(u.unpriced_events)::bigint AS unpriced_events
  FROM aimeter.usage_monthly u
 WHERE u.unpriced_events > 0
 GROUP BY u.model, u.tool;
GRANT SELECT ON reporting.unpriced_models TO aimeter_reader;
