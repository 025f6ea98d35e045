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
-- transactions carrying the same call wait for each other. A new call's row is
-- written once, with its verdict, by the statement that locks it; rows change
-- again only when a call's state does (a second source, a replacement, a
-- copy the write path refused), so a replayed batch writes nothing here.
CREATE OR REPLACE FUNCTION aimeter.ingest_requests(p_batches aimeter.stage_batch_template[],
						   p_events aimeter.stage_event_template[],
						   p_requests aimeter.stage_request_template[])
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb,
	       new_identities int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
	v_req aimeter.request_copy[];
	v_state aimeter.request_state[];
	v_events aimeter.stage_event_template[] := p_events;
	v_res jsonb;
	v_rejected bigint;
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

	-- The lock, in id order. A new call's row gets its verdict now: the
	-- transcript's copy when one is staged, else the first OTLP copy.
	WITH c AS (
			SELECT r.request_id, min(r.tool) AS tool, bool_or(NOT r.otel) AS agent,
			       bool_or(r.otel) AS otel,
			       (array_agg(r.event_id ORDER BY r.otel, r.batch_idx, r.ord))[1] AS event_id,
			       (array_agg(r.ts ORDER BY r.otel, r.batch_idx, r.ord))[1] AS ts
			  FROM unnest(v_req) r GROUP BY 1
		), l AS (
			INSERT INTO aimeter.usage_requests AS u (request_id, tool, counted, event_id, ts,
								  agent_seen, otel_seen)
			SELECT c.request_id, c.tool, CASE WHEN c.agent THEN 'agent' ELSE 'otel' END,
			       c.event_id, c.ts, CASE WHEN c.agent THEN now() END,
			       CASE WHEN c.otel THEN now() END
			  FROM c ORDER BY 1
			ON CONFLICT (request_id) DO UPDATE SET tool = u.tool
			RETURNING u.request_id, u.counted, u.event_id, u.ts, u.agent_seen, u.otel_seen,
				  u.xmax = 0 AS fresh
		)
	SELECT array_agg(ROW(l.request_id, l.counted, l.event_id, l.ts, l.agent_seen, l.otel_seen,
			     l.fresh)::aimeter.request_state)
	  INTO v_state FROM l;

	-- OTLP copies of calls whose transcript record is stored or staged here
	-- are not written: they only corroborate it.
	v_req := ARRAY(
		SELECT ROW(r.batch_idx, r.ord, r.event_id, r.ts, r.request_id, r.tool, r.otel,
			   r.otel AND (s.counted = 'agent' OR a.agent))::aimeter.request_copy
		  FROM unnest(v_req) r
		  JOIN unnest(v_state) s ON s.request_id = r.request_id
		  JOIN (SELECT x.request_id, bool_or(NOT x.otel) AS agent FROM unnest(v_req) x
			 GROUP BY 1) a ON a.request_id = r.request_id);
	IF EXISTS (SELECT 1 FROM unnest(v_req) r WHERE r.drop_it) THEN
		v_events := ARRAY(
			SELECT e FROM unnest(p_events) e
			  LEFT JOIN (SELECT r.batch_idx, r.ord FROM unnest(v_req) r WHERE r.drop_it) d
				 ON d.batch_idx = e.batch_idx AND d.ord = e.ord
			 WHERE d.batch_idx IS NULL);
	END IF;

	-- The write path; its rows are answered after the bookkeeping below.
	v_res := (SELECT jsonb_agg(to_jsonb(w)) FROM aimeter.ingest_rows(p_batches, v_events) w);
	v_rejected := (SELECT coalesce(sum((x ->> 'rejected')::bigint), 0)
			 FROM jsonb_array_elements(coalesce(v_res, '[]')) x);

	-- Per call seen before: what this transaction adds. A copy counts as
	-- stored unless the write path rejected something, then it is looked up.
	SELECT array_agg(c.event_id), array_agg(c.ts) INTO v_ids, v_ts
	  FROM (SELECT s.event_id, s.ts FROM unnest(v_state) s
		 WHERE NOT s.fresh AND s.counted = 'otel'
		   AND EXISTS (SELECT 1 FROM unnest(v_req) a
				WHERE a.request_id = s.request_id AND NOT a.otel
				  AND (v_rejected = 0 OR EXISTS (
					SELECT 1 FROM aimeter.usage_events e
					 WHERE e.event_id = a.event_id AND e.ts = a.ts)))) c;
	IF v_ids IS NOT NULL THEN
		-- transcript records stored for calls counted from OTLP: the copy goes
		PERFORM aimeter.unfold_events(v_ids, v_ts);
	END IF;
	UPDATE aimeter.usage_requests u
	   SET agent_seen = CASE WHEN c.agent THEN coalesce(u.agent_seen, now()) ELSE u.agent_seen END,
	       otel_seen = CASE WHEN c.otel THEN coalesce(u.otel_seen, now()) ELSE u.otel_seen END,
	       counted = coalesce(c.counted, u.counted),
	       event_id = CASE WHEN c.counted IS NULL THEN u.event_id ELSE c.event_id END,
	       ts = CASE WHEN c.counted IS NULL THEN u.ts ELSE c.ts END,
	       superseded = u.superseded + c.replaced
	  FROM (SELECT k.request_id, k.agent, k.otel, k.replaced,
		       CASE WHEN k.replaced = 1 OR k.counted_was IS NULL THEN k.copy END AS counted,
		       k.event_id, k.ts
		  FROM (SELECT r.request_id, bool_or(NOT r.otel) AS agent, bool_or(r.otel) AS otel,
			       min(s.counted) AS counted_was,
			       CASE WHEN min(s.counted) = 'otel'
				     AND (array_agg(s.event_id))[1] = ANY (coalesce(v_ids, '{}')) THEN 1 ELSE 0
			       END AS replaced,
			       (array_agg(CASE WHEN r.otel THEN 'otel' ELSE 'agent' END
					  ORDER BY r.otel, r.batch_idx, r.ord)
				 FILTER (WHERE NOT r.drop_it AND st.ok))[1] AS copy,
			       (array_agg(r.event_id ORDER BY r.otel, r.batch_idx, r.ord)
				 FILTER (WHERE NOT r.drop_it AND st.ok))[1] AS event_id,
			       (array_agg(r.ts ORDER BY r.otel, r.batch_idx, r.ord)
				 FILTER (WHERE NOT r.drop_it AND st.ok))[1] AS ts
			  FROM unnest(v_req) r
			  JOIN unnest(v_state) s ON s.request_id = r.request_id AND NOT s.fresh
			 CROSS JOIN LATERAL (SELECT v_rejected = 0 OR EXISTS (
				SELECT 1 FROM aimeter.usage_events e
				 WHERE e.event_id = r.event_id AND e.ts = r.ts) AS ok) st
			 GROUP BY r.request_id) k) c
	 WHERE u.request_id = c.request_id
	   AND ((c.agent AND u.agent_seen IS NULL) OR (c.otel AND u.otel_seen IS NULL)
		OR c.counted IS NOT NULL);
	IF v_rejected > 0 THEN
		-- a new call whose counted copy the write path refused counts nowhere
		UPDATE aimeter.usage_requests u SET counted = NULL, event_id = NULL, ts = NULL
		  FROM unnest(v_state) s
		 WHERE s.fresh AND u.request_id = s.request_id
		   AND NOT EXISTS (SELECT 1 FROM aimeter.usage_events e
				    WHERE e.event_id = u.event_id AND e.ts = u.ts);
	END IF;

	RETURN QUERY
	SELECT w.batch_idx, w.inserted, w.duplicates + coalesce(d.n, 0)::int, w.rejected,
	       w.rejections, w.new_identities
	  FROM jsonb_to_recordset(coalesce(v_res, '[]')) AS w (batch_idx int, inserted int,
		duplicates int, rejected int, rejections jsonb, new_identities int)
	  LEFT JOIN (SELECT r.batch_idx, count(*) AS n FROM unnest(v_req) r WHERE r.drop_it
		     GROUP BY 1) d ON d.batch_idx = w.batch_idx
	 ORDER BY w.batch_idx;
END
$$;
