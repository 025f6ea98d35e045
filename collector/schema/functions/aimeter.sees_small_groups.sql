-- aimeter.sees_small_groups(): whether the calling role may see cells of
-- fewer than min_group_size people: finance and admins (their books must
-- reconcile line by line). Plain readers see such cells merged. Call it
-- from the reader's own query, never inside a SECURITY DEFINER body (there
-- the current role is the owner).
CREATE OR REPLACE FUNCTION aimeter.sees_small_groups()
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_has_role(current_user, 'aimeter_finance', 'MEMBER')
$$;
REVOKE ALL ON FUNCTION aimeter.sees_small_groups() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.sees_small_groups() TO aimeter_reader, aimeter_admin;
