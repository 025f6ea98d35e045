-- Whether an event is stored, for events past a cap (few): an index probe.
CREATE OR REPLACE FUNCTION aimeter.cap_event_stored(p_event_id bytea, p_ts timestamptz)
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off SET enable_bitmapscan = off AS $$
	SELECT EXISTS (SELECT 1 FROM aimeter.usage_events u
			WHERE u.event_id = p_event_id AND u.ts = p_ts)
$$;
REVOKE ALL ON FUNCTION aimeter.cap_event_stored(bytea,timestamp with time zone) FROM PUBLIC;
