CREATE OR REPLACE VIEW reporting.initiative_status AS
SELECT * FROM aimeter.initiative_status(current_date);
GRANT SELECT ON reporting.initiative_status TO aimeter_reader;
