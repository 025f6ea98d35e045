-- aimeter.reveal(person_key, reason): the person's primary identity, audited.
CREATE OR REPLACE FUNCTION aimeter.reveal(p_person_key bytea, p_reason text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v text;
BEGIN
	IF coalesce(btrim(p_reason), '') = '' THEN
		RAISE EXCEPTION 'a reveal needs a reason' USING ERRCODE = '22023';
	END IF;
	SELECT label INTO v FROM aimeter.people WHERE person_key = p_person_key;
	PERFORM aimeter.audit('reveal', encode(p_person_key, 'hex'),
			      jsonb_build_object('reason', p_reason, 'found', v IS NOT NULL));
	RETURN v;
END
$$;
REVOKE ALL ON FUNCTION aimeter.reveal(bytea,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.reveal(bytea,text) TO aimeter_admin;
