-- The caps' stored counts, in PL/pgSQL: its plans are kept for the
-- session, where an SQL function with SET clauses is planned on every call.
-- Same settings, same plans (one index probe per pair).
CREATE OR REPLACE FUNCTION aimeter.cap_minute_calls(p_devices uuid[], p_minutes timestamptz[])
RETURNS TABLE (device_id uuid, minute timestamptz, calls int)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
SET enable_nestloop = on ROWS 100 AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT m.device_id, m.minute, m.calls
	  FROM unnest(p_devices, p_minutes) k (device_id, minute)
	  JOIN aimeter.device_minute_calls m ON m.device_id = k.device_id AND m.minute = k.minute;
END
$$;
REVOKE ALL ON FUNCTION aimeter.cap_minute_calls(uuid[],timestamp with time zone[]) FROM PUBLIC;
