-- Every compared day (reporting.billing_variance over all time), flagged at
-- the default thresholds: 5 % and $1.00 (docs/reconciliation.md).
CREATE OR REPLACE VIEW reporting.billing_variance_daily AS
SELECT * FROM reporting.billing_variance('0001-01-01', '9999-12-31', 5, 1);
GRANT SELECT ON reporting.billing_variance_daily TO aimeter_reader;
