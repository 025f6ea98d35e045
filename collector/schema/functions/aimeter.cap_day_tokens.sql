CREATE OR REPLACE FUNCTION aimeter.cap_day_tokens(p_devices uuid[], p_days date[])
RETURNS TABLE (device_id uuid, day date, tokens numeric)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
SET enable_nestloop = on ROWS 1 AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT t.device_id, t.day, t.tokens
	  FROM unnest(p_devices, p_days) k (device_id, day)
	  JOIN aimeter.device_day_tokens t ON t.device_id = k.device_id AND t.day = k.day;
END
$$;
REVOKE ALL ON FUNCTION aimeter.cap_day_tokens(uuid[],date[]) FROM PUBLIC;
