-- The ledger as reported: frozen lines for closed months, live otherwise.
CREATE OR REPLACE VIEW aimeter.ledger AS
SELECT l.* FROM aimeter.close_lines l
 WHERE EXISTS (SELECT 1 FROM aimeter.accounting_periods p
		WHERE p.month = l.accounting_month AND p.status = 'closed')
UNION ALL
SELECT x.* FROM aimeter.ledger_live x
 WHERE NOT EXISTS (SELECT 1 FROM aimeter.accounting_periods p
		    WHERE p.month = x.accounting_month AND p.status = 'closed');
GRANT INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES ON aimeter.ledger TO aimeter_admin;
