CREATE OR REPLACE VIEW reporting.seat_utilisation AS
SELECT * FROM aimeter.seat_utilisation(current_date);
GRANT SELECT ON reporting.seat_utilisation TO aimeter_reader;
