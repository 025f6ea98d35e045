-- aimeter.ledger_hash(month, live): SHA-256 (hex) over the month's lines in
-- a canonical order; live = true recomputes from the live ledger.
CREATE OR REPLACE FUNCTION aimeter.ledger_hash(p_month date, p_live boolean)
RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v text;
BEGIN
	IF p_live THEN
		SELECT string_agg(l::text, E'\n' ORDER BY l::text) INTO v
		  FROM aimeter.ledger_live l WHERE l.accounting_month = p_month;
	ELSE
		SELECT string_agg(l::text, E'\n' ORDER BY l::text) INTO v
		  FROM aimeter.close_lines l WHERE l.accounting_month = p_month;
	END IF;
	RETURN encode(sha256(convert_to(coalesce(v, ''), 'UTF8')), 'hex');
END
$$;
REVOKE ALL ON FUNCTION aimeter.ledger_hash(date,boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.ledger_hash(date,boolean) TO aimeter_admin;
