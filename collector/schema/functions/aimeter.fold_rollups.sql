-- aimeter.fold_rollups(p_identities_min): adds the events of every committed
-- unfolded batch to usage_daily and usage_monthly, once, and marks the
-- batches folded; the identity counters left by the write path go to
-- device_identities when at least p_identities_min rows of them wait (0,
-- the default: always; a writer under load passes more, as they are read
-- only by an admin command, which folds them all first). Returns the
-- batches folded. Readers and rewriters of the rollups call it first;
-- the write path calls it in the batch's own transaction unless the caller
-- deferred it (docs/write-path.md, "The fold").
-- The advisory lock, held to commit, serialises folders: a batch is claimed
-- by one of them, and the rollup rows are locked in key order by one
-- session at a time. A batch's events are committed with its log row, so
-- the claim sees exactly the batches whose events the next statement
-- reads (read through the batch_ref index: never a scan of the events).
CREATE OR REPLACE FUNCTION aimeter.fold_rollups(p_identities_min integer DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path TO 'pg_catalog', 'pg_temp'
SET client_min_messages TO 'warning'
SET jit TO 'off'
SET enable_seqscan TO 'off'
-- A fold under load groups some 10^5 events: with the default 4MB their
-- sort spilled to disk (22MB for 128 batches) and took most of the fold.
-- One folder at a time (the lock), so this is one session's memory.
SET work_mem TO '64MB'
AS $function$
DECLARE
	v_refs bigint[];
	v_keys bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('aimeter.fold_rollups'));
	WITH claimed AS (
		UPDATE aimeter.ingest_batches b SET folded = true
		 WHERE NOT b.folded
		RETURNING b.batch_ref
	)
	SELECT array_agg(c.batch_ref) INTO v_refs FROM claimed c;
	WITH g AS MATERIALIZED (
		SELECT (e.ts AT TIME ZONE 'UTC')::date AS day,
		       coalesce(e.person_key, '') AS person_key, e.team_id, e.cost_center_id,
		       e.tool, e.model, e.billing_mode, count(*) AS events,
		       sum(e.input_tokens) AS input_tokens, sum(e.output_tokens) AS output_tokens,
		       sum(e.cache_write_5m_tokens) AS cache_write_5m_tokens,
		       sum(e.cache_write_1h_tokens) AS cache_write_1h_tokens,
		       sum(e.cache_read_tokens) AS cache_read_tokens,
		       sum(e.reasoning_tokens) AS reasoning_tokens,
		       sum(e.web_search_requests) AS web_search_requests,
		       coalesce(sum(e.cost), 0) AS cost,
		       count(*) FILTER (WHERE e.price_id IS NULL) AS unpriced_events
		  FROM aimeter.usage_events e
		 WHERE e.batch_ref = ANY (v_refs)
		 GROUP BY 1, 2, 3, 4, 5, 6, 7
	), daily AS (
		INSERT INTO aimeter.usage_daily AS d
		SELECT g.day, g.person_key, g.team_id, g.cost_center_id, g.tool, g.model,
		       g.billing_mode, g.events, g.input_tokens, g.output_tokens,
		       g.cache_write_5m_tokens, g.cache_write_1h_tokens, g.cache_read_tokens,
		       g.reasoning_tokens, g.web_search_requests, g.cost, g.unpriced_events
		  FROM g
		 ORDER BY 1, 2, 3, 4, 5, 6, 7
		ON CONFLICT (day, person_key, team_id, cost_center_id, tool, model, billing_mode)
		DO UPDATE SET events = d.events + excluded.events,
			input_tokens = d.input_tokens + excluded.input_tokens,
			output_tokens = d.output_tokens + excluded.output_tokens,
			cache_write_5m_tokens = d.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
			cache_write_1h_tokens = d.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
			cache_read_tokens = d.cache_read_tokens + excluded.cache_read_tokens,
			reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
			web_search_requests = d.web_search_requests + excluded.web_search_requests,
			cost = d.cost + excluded.cost,
			unpriced_events = d.unpriced_events + excluded.unpriced_events
	), monthly AS (
		INSERT INTO aimeter.usage_monthly AS mo
		SELECT date_trunc('month', g.day::timestamp)::date, g.team_id, g.cost_center_id, g.tool,
		       g.model, g.billing_mode, sum(g.events), sum(g.input_tokens), sum(g.output_tokens),
		       sum(g.cache_write_5m_tokens), sum(g.cache_write_1h_tokens),
		       sum(g.cache_read_tokens), sum(g.reasoning_tokens), sum(g.web_search_requests),
		       sum(g.cost), sum(g.unpriced_events)
		  FROM g
		 GROUP BY 1, 2, 3, 4, 5, 6
		 ORDER BY 1, 2, 3, 4, 5, 6
		ON CONFLICT (month, team_id, cost_center_id, tool, model, billing_mode)
		DO UPDATE SET events = mo.events + excluded.events,
			input_tokens = mo.input_tokens + excluded.input_tokens,
			output_tokens = mo.output_tokens + excluded.output_tokens,
			cache_write_5m_tokens = mo.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
			cache_write_1h_tokens = mo.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
			cache_read_tokens = mo.cache_read_tokens + excluded.cache_read_tokens,
			reasoning_tokens = mo.reasoning_tokens + excluded.reasoning_tokens,
			web_search_requests = mo.web_search_requests + excluded.web_search_requests,
			cost = mo.cost + excluded.cost,
			unpriced_events = mo.unpriced_events + excluded.unpriced_events
	)
	SELECT count(*) INTO v_keys FROM g;
	IF p_identities_min > 0 AND (SELECT count(*) FROM aimeter.device_identity_pending)
				    < p_identities_min THEN
		RETURN coalesce(cardinality(v_refs), 0);
	END IF;
	WITH ip AS MATERIALIZED (
		-- Counters of identities already known to their device.
		DELETE FROM aimeter.device_identity_pending p
		RETURNING p.device_id, p.seen, p.identity_hmacs, p.events
	)
	UPDATE aimeter.device_identities x
	   SET last_seen = greatest(x.last_seen, s.seen), events = x.events + s.events
	  FROM (SELECT ip.device_id, u.identity_hmac, max(ip.seen) AS seen, sum(u.events) AS events
		  FROM ip CROSS JOIN LATERAL unnest(ip.identity_hmacs, ip.events)
			AS u (identity_hmac, events)
		 GROUP BY 1, 2) s
	 WHERE x.device_id = s.device_id AND x.identity_hmac = s.identity_hmac;
	RETURN coalesce(cardinality(v_refs), 0);
END
$function$;
REVOKE ALL ON FUNCTION aimeter.fold_rollups(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.fold_rollups(integer) TO aimeter_ingest, aimeter_admin, aimeter_reader;
