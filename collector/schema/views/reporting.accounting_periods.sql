CREATE OR REPLACE VIEW reporting.accounting_periods AS
SELECT to_char(p.month, 'YYYY-MM') AS month, p.status, p.content_hash, p.line_count,
       p.closed_at, p.closed_by
  FROM aimeter.accounting_periods p;
GRANT SELECT ON reporting.accounting_periods TO aimeter_reader;
