-- aimeter.ingest_requests(batches, events, requests): aimeter.ingest_rows() for calls
-- that may arrive twice, once in the agent's transcript record and once as
-- Claude Code's OTLP api_request (docs/otlp.md, "One call, counted once").
-- Events with a request id (requests: batch_idx, ord, request_id) are
-- matched by it; events without one pass untouched.
-- OTLP copies are the events of a batch with neither device nor batch id
-- (the receiver stages them so; agents and aimeterctl always give one).
-- The rule: the transcript's record wins (it has the 5m/1h cache split):
--  * an OTLP copy of a call whose transcript record is stored, or staged in
--    the same call, is dropped before the write path and answered as a
--    duplicate: it only marks the call seen by OTLP;
--  * a transcript record of a call counted from OTLP is written as new and,
--    once stored, replaces that copy: aimeter.unfold_events() takes it out of
--    usage_events and the rollups (exact; closed months through their guards);
--  * an OTLP copy of a call seen nowhere else counts, as before.
-- The aimeter.usage_requests row of each id, locked first in id order, makes
-- transactions carrying the same call wait for each other.
CREATE OR REPLACE FUNCTION aimeter.ingest_requests(p_batches aimeter.stage_batch_template[],
						   p_events aimeter.stage_event_template[],
						   p_requests aimeter.stage_request_template[])
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb,
	       new_identities int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
	v_req aimeter.request_copy[];
	v_ids bytea[];
	v_ts timestamptz[];
BEGIN
	v_req := ARRAY(
		SELECT ROW(s.batch_idx, s.ord, s.event_id, s.ts, q.request_id, s.tool,
			   coalesce(b.device_id IS NULL AND b.batch_id IS NULL, false),
			   false)::aimeter.request_copy
		  FROM unnest(p_requests) q
		  JOIN unnest(p_events) s ON s.batch_idx = q.batch_idx AND s.ord = q.ord
		  LEFT JOIN unnest(p_batches) b ON b.batch_idx = s.batch_idx
		 WHERE q.request_id <> '' AND length(q.request_id) <= 128
		   AND coalesce(s.reject_reason, '') = '' AND s.ts IS NOT NULL
		   AND length(s.event_id) = 16 AND s.tool IS NOT NULL);

	-- The lock: one row per id, taken in id order.
	INSERT INTO aimeter.usage_requests AS u (request_id, tool)
	SELECT r.request_id, min(r.tool) FROM unnest(v_req) r GROUP BY 1 ORDER BY 1
	ON CONFLICT (request_id) DO UPDATE SET tool = u.tool;

	-- OTLP copies of calls whose transcript record is stored or staged here.
	v_req := ARRAY(
		SELECT ROW(r.batch_idx, r.ord, r.event_id, r.ts, r.request_id, r.tool, r.otel,
			   r.otel AND (
				EXISTS (SELECT 1 FROM aimeter.usage_requests u
					 WHERE u.request_id = r.request_id AND u.counted = 'agent')
				OR EXISTS (SELECT 1 FROM unnest(v_req) a
					    WHERE a.request_id = r.request_id AND NOT a.otel))
			  )::aimeter.request_copy
		  FROM unnest(v_req) r);

	RETURN QUERY
	SELECT w.batch_idx, w.inserted, w.duplicates + coalesce(d.n, 0)::int, w.rejected,
	       w.rejections, w.new_identities
	  FROM aimeter.ingest_rows(
		p_batches,
		ARRAY(SELECT s FROM unnest(p_events) s
		       WHERE NOT EXISTS (SELECT 1 FROM unnest(v_req) r
					  WHERE r.drop_it AND r.batch_idx = s.batch_idx
					    AND r.ord = s.ord))) w
	  LEFT JOIN (SELECT r.batch_idx, count(*) AS n FROM unnest(v_req) r WHERE r.drop_it
		     GROUP BY 1) d ON d.batch_idx = w.batch_idx;

	-- Transcript records now stored for calls counted from OTLP: the copy goes
	-- (after the write, so a record the write path refused replaces nothing).
	SELECT array_agg(u.event_id), array_agg(u.ts) INTO v_ids, v_ts
	  FROM aimeter.usage_requests u
	 WHERE u.counted = 'otel'
	   AND u.request_id IN (SELECT a.request_id FROM unnest(v_req) a
				  JOIN aimeter.usage_events e ON e.event_id = a.event_id AND e.ts = a.ts
				 WHERE NOT a.otel);
	IF v_ids IS NOT NULL THEN
		PERFORM aimeter.unfold_events(v_ids, v_ts);
		UPDATE aimeter.usage_requests u
		   SET counted = NULL, event_id = NULL, ts = NULL, superseded = u.superseded + 1
		 WHERE (u.event_id, u.ts) IN (SELECT * FROM unnest(v_ids, v_ts));
	END IF;

	-- Who has seen each call, and which copy is counted now: the transcript's
	-- when stored, else the OTLP copy stored (first in batch order).
	UPDATE aimeter.usage_requests u
	   SET agent_seen = CASE WHEN s.agent THEN coalesce(u.agent_seen, now()) ELSE u.agent_seen END,
	       otel_seen = CASE WHEN s.otel THEN coalesce(u.otel_seen, now()) ELSE u.otel_seen END,
	       counted = coalesce(s.counted, u.counted),
	       event_id = CASE WHEN s.counted IS NULL THEN u.event_id ELSE s.event_id END,
	       ts = CASE WHEN s.counted IS NULL THEN u.ts ELSE s.ts END
	  FROM (SELECT r.request_id, bool_or(NOT r.otel) AS agent, bool_or(r.otel) AS otel,
		       (array_agg(CASE WHEN r.otel THEN 'otel' ELSE 'agent' END
				  ORDER BY r.otel, r.batch_idx, r.ord)
			 FILTER (WHERE NOT r.drop_it AND e.event_id IS NOT NULL))[1] AS counted,
		       (array_agg(r.event_id ORDER BY r.otel, r.batch_idx, r.ord)
			 FILTER (WHERE NOT r.drop_it AND e.event_id IS NOT NULL))[1] AS event_id,
		       (array_agg(r.ts ORDER BY r.otel, r.batch_idx, r.ord)
			 FILTER (WHERE NOT r.drop_it AND e.event_id IS NOT NULL))[1] AS ts
		  FROM unnest(v_req) r
		  LEFT JOIN aimeter.usage_events e ON e.event_id = r.event_id AND e.ts = r.ts
		 GROUP BY r.request_id) s
	 WHERE u.request_id = s.request_id;
END
$$;
REVOKE ALL ON FUNCTION aimeter.ingest_requests(aimeter.stage_batch_template[],aimeter.stage_event_template[],aimeter.stage_request_template[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.ingest_requests(aimeter.stage_batch_template[],aimeter.stage_event_template[],aimeter.stage_request_template[]) TO aimeter_ingest, aimeter_admin;
