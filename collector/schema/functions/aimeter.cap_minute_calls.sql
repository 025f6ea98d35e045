-- The caps' stored counts, in PL/pgSQL: its plans are kept for the
-- session, where an SQL function with SET clauses is planned on every call.
-- Same settings, same plans. One index range per device and UTC day of the
-- call (its first to its last minute there), not one probe per pair: an
-- agent's events come in time order, so a batch is a few ranges. Stored
-- minutes inside a range that the call lacks come back too; the caller joins
-- on the exact pair, so they change nothing.
CREATE OR REPLACE FUNCTION aimeter.cap_minute_calls(p_devices uuid[], p_minutes timestamptz[])
RETURNS TABLE (device_id uuid, minute timestamptz, calls int)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
SET enable_nestloop = on ROWS 1 AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT m.device_id, m.minute, m.calls
	  FROM (SELECT k.device_id, min(k.minute) AS lo, max(k.minute) AS hi
		  FROM unnest(p_devices, p_minutes) k (device_id, minute)
		 GROUP BY k.device_id, date_trunc('day', k.minute, 'UTC')) r
	  JOIN aimeter.device_minute_calls m
	    ON m.device_id = r.device_id AND m.minute BETWEEN r.lo AND r.hi;
END
$$;
REVOKE ALL ON FUNCTION aimeter.cap_minute_calls(uuid[],timestamp with time zone[]) FROM PUBLIC;
