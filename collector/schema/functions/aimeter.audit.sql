CREATE OR REPLACE FUNCTION aimeter.audit(p_action text, p_subject text, p_detail jsonb)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	INSERT INTO aimeter.audit_log (action, subject, detail)
	VALUES (p_action, p_subject, coalesce(p_detail, '{}'))
$$;
REVOKE ALL ON FUNCTION aimeter.audit(text,text,jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.audit(text,text,jsonb) TO aimeter_admin;
