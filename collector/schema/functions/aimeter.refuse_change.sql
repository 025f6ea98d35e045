CREATE OR REPLACE FUNCTION aimeter.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: add a new row instead', TG_TABLE_NAME
		USING ERRCODE = '55000';
END
$$;
REVOKE ALL ON FUNCTION aimeter.refuse_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.refuse_change() TO aimeter_admin;
