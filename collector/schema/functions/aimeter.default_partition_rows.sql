CREATE OR REPLACE FUNCTION aimeter.default_partition_rows()
RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT count(*) FROM aimeter.usage_events_default
$$;
REVOKE ALL ON FUNCTION aimeter.default_partition_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.default_partition_rows() TO aimeter_admin;
