CREATE OR REPLACE VIEW reporting.stalled_signals AS
SELECT * FROM aimeter.stalled_signals(current_date);
GRANT SELECT ON reporting.stalled_signals TO aimeter_reader;
