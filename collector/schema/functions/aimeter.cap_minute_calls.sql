-- The stored counts of the given (device, minute) and (device, day) pairs,
-- for the write path below: one index probe per pair, whatever the planner
-- knows of the tables. Inside ingest_rows' statement (generic plans, no
-- nested loops) a subquery planned while the table was empty kept scanning
-- it whole for the rest of the session; these are planned on their own.
CREATE OR REPLACE FUNCTION aimeter.cap_minute_calls(p_devices uuid[], p_minutes timestamptz[])
RETURNS TABLE (device_id uuid, minute timestamptz, calls int)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
SET enable_nestloop = on ROWS 100 AS $$
	SELECT m.device_id, m.minute, m.calls
	  FROM unnest(p_devices, p_minutes) k (device_id, minute)
	  JOIN aimeter.device_minute_calls m ON m.device_id = k.device_id AND m.minute = k.minute
$$;
REVOKE ALL ON FUNCTION aimeter.cap_minute_calls(uuid[],timestamp with time zone[]) FROM PUBLIC;
