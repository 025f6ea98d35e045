-- 0003_ingest_set_based.sql: aimeter.ingest_staged() resolves attribution
-- with joins instead of a function call per (identity, hint, day), and plans
-- with hash joins: the staging tables have no statistics. Same contract,
-- same results (tests/integration/test-ctl-db.sh); ~10x faster per batch.

CREATE OR REPLACE FUNCTION aimeter.ingest_staged()
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
-- The staging tables have no statistics: estimates of one row would pick
-- nested loops over a thousand rows. Hash joins are right at any batch size.
-- The disabled nested loops inflate the cost estimates past jit_above_cost,
-- and JIT compiling would cost more than the whole batch: no JIT.
SET enable_nestloop = off
SET jit = off AS $$
DECLARE
	v_month date;
BEGIN
	CREATE TEMP TABLE IF NOT EXISTS am_work_batch (
		batch_idx int PRIMARY KEY,
		batch_ref bigint NOT NULL
	) ON COMMIT DELETE ROWS;
	CREATE TEMP TABLE IF NOT EXISTS am_work (
		batch_idx int NOT NULL,
		ord int NOT NULL,
		reason text
	) ON COMMIT DELETE ROWS;
	CREATE TEMP TABLE IF NOT EXISTS am_work_count (
		batch_idx int NOT NULL,
		inserted int NOT NULL
	) ON COMMIT DELETE ROWS;
	-- Several calls in one transaction each see only their own work. DELETE,
	-- not TRUNCATE: these are tiny, and TRUNCATE makes new files every call.
	DELETE FROM am_work_batch;
	DELETE FROM am_work;
	DELETE FROM am_work_count;

	INSERT INTO am_work_batch
	SELECT b.batch_idx, nextval(pg_get_serial_sequence('aimeter.ingest_batches', 'batch_ref'))
	  FROM pg_temp.am_stage_batch b;
	-- Events of a batch_idx with no batch row still get a batch log row.
	INSERT INTO am_work_batch
	SELECT DISTINCT s.batch_idx, 0 FROM pg_temp.am_stage s
	 WHERE NOT EXISTS (SELECT 1 FROM am_work_batch w WHERE w.batch_idx = s.batch_idx);
	UPDATE am_work_batch w
	   SET batch_ref = nextval(pg_get_serial_sequence('aimeter.ingest_batches', 'batch_ref'))
	 WHERE w.batch_ref = 0;

	-- Validation: the first reason that applies. A place for more checks.
	INSERT INTO am_work
	SELECT s.batch_idx, s.ord,
	       CASE
		WHEN s.event_id IS NULL OR length(s.event_id) <> 16 THEN 'bad_event_id'
		WHEN s.ts IS NULL THEN 'missing_timestamp'
		WHEN s.tool IS NULL OR NOT EXISTS (SELECT 1 FROM aimeter.tools t WHERE t.tool = s.tool)
			THEN 'unknown_tool'
		WHEN coalesce(s.input_tokens, 0) < 0 OR coalesce(s.output_tokens, 0) < 0
		  OR coalesce(s.cache_write_5m_tokens, 0) < 0 OR coalesce(s.cache_write_1h_tokens, 0) < 0
		  OR coalesce(s.cache_read_tokens, 0) < 0 OR coalesce(s.reasoning_tokens, 0) < 0
		  OR coalesce(s.web_search_requests, 0) < 0
			THEN 'negative_count'
		WHEN s.billing_mode IS NOT NULL
		 AND s.billing_mode NOT IN ('subscription', 'api', 'cloud', 'unknown', '')
			THEN 'bad_billing_mode'
		WHEN s.ts > now() + cfg.future_tolerance THEN 'future_timestamp'
		WHEN s.ts < now() - make_interval(months => cfg.backfill_horizon_months)
			THEN 'beyond_horizon'
		WHEN s.identity_hmac IS NOT NULL AND EXISTS (
			SELECT 1 FROM aimeter.erased_identities x
			 WHERE x.identity_hmac = s.identity_hmac AND s.ts < x.erased_at)
			THEN 'erased_identity'
	       END
	  FROM pg_temp.am_stage s CROSS JOIN aimeter.settings cfg;

	INSERT INTO aimeter.ingest_batches (batch_ref, device_id, batch_id, events_sent,
					    spool_dropped, inserted, duplicates, rejected)
	SELECT w.batch_ref, b.device_id, b.batch_id,
	       CASE WHEN coalesce(b.events_sent, 0) > 0 THEN b.events_sent
		    ELSE (SELECT count(*) FROM pg_temp.am_stage s WHERE s.batch_idx = w.batch_idx)
	       END,
	       coalesce(b.spool_dropped, 0), 0, 0, 0
	  FROM am_work_batch w LEFT JOIN pg_temp.am_stage_batch b ON b.batch_idx = w.batch_idx;

	INSERT INTO aimeter.rejected_events (batch_ref, ord, event_id, ts, tool, model, reason)
	SELECT wb.batch_ref, s.ord, s.event_id, s.ts, left(s.tool, 64), left(s.model, 128), w.reason
	  FROM pg_temp.am_stage s
	  JOIN am_work w ON w.batch_idx = s.batch_idx AND w.ord = s.ord
	  JOIN am_work_batch wb ON wb.batch_idx = s.batch_idx
	 WHERE w.reason IS NOT NULL
	ON CONFLICT DO NOTHING;

	FOR v_month IN
		SELECT DISTINCT date_trunc('month', s.ts AT TIME ZONE 'UTC')::date
		  FROM pg_temp.am_stage s JOIN am_work w ON w.batch_idx = s.batch_idx AND w.ord = s.ord
		 WHERE w.reason IS NULL
	LOOP
		PERFORM aimeter.ensure_partition(v_month);
	END LOOP;

	WITH ok AS MATERIALIZED (
		SELECT s.*, (s.ts AT TIME ZONE 'UTC')::date AS day, wb.batch_ref, b.device_id
		  FROM pg_temp.am_stage s
		  JOIN am_work w ON w.batch_idx = s.batch_idx AND w.ord = s.ord
		  JOIN am_work_batch wb ON wb.batch_idx = s.batch_idx
		  LEFT JOIN pg_temp.am_stage_batch b ON b.batch_idx = s.batch_idx
		 WHERE w.reason IS NULL
	), keys0 AS MATERIALIZED (
		-- aimeter.attribute(), set-based: person, team, membership override.
		SELECT k.identity_hmac, k.team_hint, k.day,
		       coalesce(pp.person_key, nullif(k.identity_hmac, ''::bytea)) AS person_key,
		       coalesce(mb.team_id, ht.team_id, 0) AS team_id,
		       mb.cost_center_id AS override_cc
		  FROM (SELECT DISTINCT coalesce(identity_hmac, '') AS identity_hmac,
			       coalesce(team_hint, '') AS team_hint, day FROM ok) k
		  LEFT JOIN aimeter.identities i ON i.identity_hmac = k.identity_hmac
		  LEFT JOIN aimeter.people pp ON pp.person_id = i.person_id
		  LEFT JOIN aimeter.memberships mb
			 ON mb.person_id = i.person_id AND k.day >= mb.valid_from
			AND (mb.valid_to IS NULL OR k.day < mb.valid_to)
		  LEFT JOIN aimeter.teams ht ON ht.name = k.team_hint AND k.team_hint <> ''
	), tcc AS MATERIALIZED (
		-- The team's mapping, once per team and day.
		-- The team's own mapping by join; the walk up the parents only without one.
		SELECT t.team_id, t.day,
		       coalesce(m.cost_center_id, aimeter.team_cost_center(t.team_id, t.day)) AS cc
		  FROM (SELECT DISTINCT team_id, day FROM keys0
			 WHERE team_id <> 0 AND override_cc IS NULL) t
		  LEFT JOIN aimeter.team_cost_centers m
			 ON m.team_id = t.team_id AND t.day >= m.valid_from
			AND (m.valid_to IS NULL OR t.day < m.valid_to)
	), keys AS MATERIALIZED (
		SELECT k.identity_hmac, k.team_hint, k.day, k.person_key, k.team_id,
		       coalesce(k.override_cc, t.cc, 0) AS cost_center_id
		  FROM keys0 k LEFT JOIN tcc t ON t.team_id = k.team_id AND t.day = k.day
	), cand AS MATERIALIZED (
		SELECT m.model, p.*
		  FROM (SELECT DISTINCT coalesce(model, '') AS model FROM ok) m
		  JOIN aimeter.prices p ON m.model LIKE p.like_pattern
	), ins AS (
		INSERT INTO aimeter.usage_events AS e (event_id, ts, tool, model, session, project,
			person_key, team_id, cost_center_id, device_id, batch_ref, billing_mode, speed,
			service_tier, input_tokens, output_tokens, cache_write_5m_tokens,
			cache_write_1h_tokens, cache_read_tokens, reasoning_tokens, web_search_requests,
			cost, price_id)
		SELECT ok.event_id, ok.ts, ok.tool, coalesce(ok.model, ''), coalesce(ok.session, ''),
		       coalesce(ok.project, ''), k.person_key, k.team_id, k.cost_center_id,
		       ok.device_id, ok.batch_ref, coalesce(nullif(ok.billing_mode, ''), 'unknown'),
		       coalesce(ok.speed, ''), coalesce(ok.service_tier, ''),
		       coalesce(ok.input_tokens, 0), coalesce(ok.output_tokens, 0),
		       coalesce(ok.cache_write_5m_tokens, 0), coalesce(ok.cache_write_1h_tokens, 0),
		       coalesce(ok.cache_read_tokens, 0), coalesce(ok.reasoning_tokens, 0),
		       coalesce(ok.web_search_requests, 0),
		       aimeter.price_cost(p.input_per_mtok, p.output_per_mtok,
			       p.cache_write_5m_per_mtok, p.cache_write_1h_per_mtok,
			       p.cache_read_per_mtok, p.long_context_threshold_tokens,
			       p.long_context_input_per_mtok, p.long_context_output_per_mtok,
			       p.web_search_per_1k, p.fast_multiplier,
			       coalesce(ok.input_tokens, 0), coalesce(ok.output_tokens, 0),
			       coalesce(ok.cache_write_5m_tokens, 0),
			       coalesce(ok.cache_write_1h_tokens, 0),
			       coalesce(ok.cache_read_tokens, 0),
			       coalesce(ok.web_search_requests, 0), ok.speed),
		       p.price_id
		  FROM ok
		  JOIN keys k ON k.identity_hmac = coalesce(ok.identity_hmac, '')
			     AND k.team_hint = coalesce(ok.team_hint, '') AND k.day = ok.day
		  LEFT JOIN LATERAL (
			SELECT c.* FROM cand c
			 WHERE c.model = coalesce(ok.model, '') AND c.effective_from <= ok.ts
			 ORDER BY length(c.model_pattern) DESC, c.effective_from DESC, c.price_id DESC
			 LIMIT 1) p ON true
		ON CONFLICT DO NOTHING
		RETURNING e.*
	), daily AS (
		INSERT INTO aimeter.usage_daily AS d
		SELECT (ins.ts AT TIME ZONE 'UTC')::date, coalesce(ins.person_key, ''), ins.team_id,
		       ins.cost_center_id, ins.tool, ins.model, ins.billing_mode, count(*),
		       sum(ins.input_tokens), sum(ins.output_tokens), sum(ins.cache_write_5m_tokens),
		       sum(ins.cache_write_1h_tokens), sum(ins.cache_read_tokens),
		       sum(ins.reasoning_tokens), sum(ins.web_search_requests),
		       coalesce(sum(ins.cost), 0), count(*) FILTER (WHERE ins.price_id IS NULL)
		  FROM ins
		 GROUP BY 1, 2, 3, 4, 5, 6, 7
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
		SELECT date_trunc('month', ins.ts AT TIME ZONE 'UTC')::date, ins.team_id,
		       ins.cost_center_id, ins.tool, ins.model, ins.billing_mode, count(*),
		       sum(ins.input_tokens), sum(ins.output_tokens), sum(ins.cache_write_5m_tokens),
		       sum(ins.cache_write_1h_tokens), sum(ins.cache_read_tokens),
		       sum(ins.reasoning_tokens), sum(ins.web_search_requests),
		       coalesce(sum(ins.cost), 0), count(*) FILTER (WHERE ins.price_id IS NULL)
		  FROM ins
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
	INSERT INTO am_work_count
	SELECT wb.batch_idx, count(*)
	  FROM ins JOIN am_work_batch wb ON wb.batch_ref = ins.batch_ref
	 GROUP BY wb.batch_idx;

	UPDATE aimeter.ingest_batches g
	   SET inserted = c.ins, rejected = c.rej,
	       duplicates = c.total - c.rej - c.ins
	  FROM (SELECT wb.batch_ref,
		       coalesce((SELECT sum(n.inserted) FROM am_work_count n
				  WHERE n.batch_idx = wb.batch_idx), 0)::int AS ins,
		       (SELECT count(*) FROM am_work w
			 WHERE w.batch_idx = wb.batch_idx AND w.reason IS NOT NULL)::int AS rej,
		       (SELECT count(*) FROM am_work w WHERE w.batch_idx = wb.batch_idx)::int AS total
		  FROM am_work_batch wb) c
	 WHERE g.batch_ref = c.batch_ref;

	RETURN QUERY
	SELECT wb.batch_idx, g.inserted, g.duplicates, g.rejected,
	       coalesce((SELECT jsonb_agg(jsonb_build_object('ord', w.ord, 'reason', w.reason)
					  ORDER BY w.ord)
			   FROM am_work w
			  WHERE w.batch_idx = wb.batch_idx AND w.reason IS NOT NULL), '[]'::jsonb)
	  FROM am_work_batch wb JOIN aimeter.ingest_batches g ON g.batch_ref = wb.batch_ref
	 ORDER BY wb.batch_idx;
END
$$;
