-- GDPR: the keys that stand for a person: the given identity's HMAC, its
-- person's key and every identity HMAC of that person.
CREATE OR REPLACE FUNCTION aimeter.person_keys(p_hmac bytea, OUT person_id bigint, OUT keys bytea[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT i.person_id,
	       ARRAY(SELECT DISTINCT k FROM (
			SELECT p_hmac AS k
			UNION ALL SELECT p.person_key FROM aimeter.people p WHERE p.person_id = i.person_id
			UNION ALL SELECT x.identity_hmac FROM aimeter.identities x
				   WHERE x.person_id = i.person_id) s)
	  FROM (SELECT 1) one
	  LEFT JOIN aimeter.identities i ON i.identity_hmac = p_hmac
$$;
REVOKE ALL ON FUNCTION aimeter.person_keys(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.person_keys(bytea) TO aimeter_admin;
