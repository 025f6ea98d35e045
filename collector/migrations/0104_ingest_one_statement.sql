-- 0104_ingest_one_statement.sql: a faster aimeter.ingest_staged(), the same
-- contract (docs/write-path.md), and activity that follows reattribution.
--
-- Profile of 0003 (1,000-event batches, perf and auto_explain): the three
-- work temp tables cost most of what was not the insert itself. The primary
-- key of am_work_batch is rebuilt by ON COMMIT DELETE ROWS at every commit
-- (index_build), which invalidates every cached plan that reads it, so the
-- big statement was planned again at every call; filling am_work was a
-- second pass over the batch; the rollups sorted the returned rows twice;
-- unknown tools and erased identities were looked up row by row.
--
-- Now: one statement after the partition check, no temp table of its own.
-- The batch log row is written with its counts (a RETURNING-fed CTE), so
-- there is no UPDATE afterwards; the returned rows are grouped once, and
-- both rollups and the counts come from those groups; the rollups are
-- written last in the statement, so their row locks, which concurrent
-- writers queue on, are held for the shortest time. Prices are resolved
-- per model and price period instead of a sort per row.

DO $mig$
DECLARE
	tmpl text := $tmpl$
CREATE OR REPLACE FUNCTION aimeter.@NAME@()
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
-- The staging tables have no statistics: hash joins are right at any size
-- (see 0003), and JIT would cost more than the batch. One generic plan,
-- made once per session, never a custom plan per call.
SET enable_nestloop = off
SET jit = off
SET plan_cache_mode = force_generic_plan AS $fn$
BEGIN
	RETURN QUERY
	WITH erased AS MATERIALIZED (
		SELECT EXISTS (SELECT 1 FROM aimeter.erased_identities) AS any_erased
	), wb AS MATERIALIZED (
		-- One batch log row per batch_idx, with or without a batch row.
		SELECT i.batch_idx,
		       nextval(pg_get_serial_sequence('aimeter.ingest_batches', 'batch_ref')) AS batch_ref
		  FROM (SELECT b.batch_idx FROM pg_temp.am_stage_batch b
			UNION
			SELECT s.batch_idx FROM pg_temp.am_stage s) i
	), v AS MATERIALIZED (
		-- Validation: the first reason that applies. A place for more checks.
		SELECT s.*, (s.ts AT TIME ZONE 'UTC')::date AS day, wb.batch_ref,
		       CASE
			WHEN s.event_id IS NULL OR length(s.event_id) <> 16 THEN 'bad_event_id'
			WHEN s.ts IS NULL THEN 'missing_timestamp'
			WHEN s.tool IS NULL OR NOT (s.tool IN (SELECT t.tool FROM aimeter.tools t))
				THEN 'unknown_tool'
			WHEN coalesce(s.input_tokens, 0) < 0 OR coalesce(s.output_tokens, 0) < 0
			  OR coalesce(s.cache_write_5m_tokens, 0) < 0
			  OR coalesce(s.cache_write_1h_tokens, 0) < 0
			  OR coalesce(s.cache_read_tokens, 0) < 0 OR coalesce(s.reasoning_tokens, 0) < 0
			  OR coalesce(s.web_search_requests, 0) < 0
				THEN 'negative_count'
			WHEN s.billing_mode IS NOT NULL
			 AND s.billing_mode NOT IN ('subscription', 'api', 'cloud', 'unknown', '')
				THEN 'bad_billing_mode'
			WHEN s.ts > now() + cfg.future_tolerance THEN 'future_timestamp'
			WHEN s.ts < now() - make_interval(months => cfg.backfill_horizon_months)
				THEN 'beyond_horizon'
			WHEN s.identity_hmac IS NOT NULL AND (SELECT any_erased FROM erased) AND EXISTS (
				SELECT 1 FROM aimeter.erased_identities x
				 WHERE x.identity_hmac = s.identity_hmac AND s.ts < x.erased_at)
				THEN 'erased_identity'
		       END AS reason
		  FROM pg_temp.am_stage s
		  JOIN wb ON wb.batch_idx = s.batch_idx
		 CROSS JOIN aimeter.settings cfg
	), keys0 AS MATERIALIZED (
		-- aimeter.attribute(), set-based: person, team, membership override.
		SELECT k.identity_hmac, k.team_hint, k.day,
		       coalesce(pp.person_key, nullif(k.identity_hmac, ''::bytea)) AS person_key,
		       coalesce(mb.team_id, ht.team_id, 0) AS team_id,
		       mb.cost_center_id AS override_cc
		  FROM (SELECT DISTINCT coalesce(v.identity_hmac, '') AS identity_hmac,
			       coalesce(v.team_hint, '') AS team_hint, v.day
			  FROM v WHERE v.reason IS NULL) k
		  LEFT JOIN aimeter.identities i ON i.identity_hmac = k.identity_hmac
		  LEFT JOIN aimeter.people pp ON pp.person_id = i.person_id
		  LEFT JOIN aimeter.memberships mb
			 ON mb.person_id = i.person_id AND k.day >= mb.valid_from
			AND (mb.valid_to IS NULL OR k.day < mb.valid_to)
		  LEFT JOIN aimeter.teams ht ON ht.name = k.team_hint AND k.team_hint <> ''
	), tcc AS MATERIALIZED (
		-- The team's own mapping by join; the walk up the parents only without one.
		SELECT t.team_id, t.day,
		       coalesce(m.cost_center_id, aimeter.team_cost_center(t.team_id, t.day)) AS cc
		  FROM (SELECT DISTINCT k.team_id, k.day FROM keys0 k
			 WHERE k.team_id <> 0 AND k.override_cc IS NULL) t
		  LEFT JOIN aimeter.team_cost_centers m
			 ON m.team_id = t.team_id AND t.day >= m.valid_from
			AND (m.valid_to IS NULL OR t.day < m.valid_to)
	), keys AS MATERIALIZED (
		SELECT k.identity_hmac, k.team_hint, k.day, k.person_key, k.team_id,
		       coalesce(k.override_cc, t.cc, 0) AS cost_center_id
		  FROM keys0 k LEFT JOIN tcc t ON t.team_id = k.team_id AND t.day = k.day
	), cand AS MATERIALIZED (
		SELECT m.model, length(p.model_pattern) AS plen, p.*
		  FROM (SELECT DISTINCT coalesce(v.model, '') AS model FROM v WHERE v.reason IS NULL) m
		  JOIN aimeter.prices p ON m.model LIKE p.like_pattern
	), pr AS MATERIALIZED (
		-- Per model, the row that wins from each effective_from of its
		-- candidates until the next one: longest pattern, then the latest
		-- effective_from not after the event, then the latest row.
		SELECT b.model, b.t0, lead(b.t0) OVER (PARTITION BY b.model ORDER BY b.t0) AS t1,
		       w.price_id, w.input_per_mtok, w.output_per_mtok, w.cache_write_5m_per_mtok,
		       w.cache_write_1h_per_mtok, w.cache_read_per_mtok,
		       w.long_context_threshold_tokens, w.long_context_input_per_mtok,
		       w.long_context_output_per_mtok, w.web_search_per_1k, w.fast_multiplier
		  FROM (SELECT DISTINCT c.model, c.effective_from AS t0 FROM cand c) b
		 CROSS JOIN LATERAL (
			SELECT c.* FROM cand c
			 WHERE c.model = b.model AND c.effective_from <= b.t0
			 ORDER BY c.plen DESC, c.effective_from DESC, c.price_id DESC
			 LIMIT 1) w
	), ins AS (
		INSERT INTO aimeter.usage_events AS e (event_id, ts, tool, model, session, project,
			person_key, team_id, cost_center_id, device_id, batch_ref, billing_mode, speed,
			service_tier, input_tokens, output_tokens, cache_write_5m_tokens,
			cache_write_1h_tokens, cache_read_tokens, reasoning_tokens, web_search_requests,
			cost, price_id)
		SELECT v.event_id, v.ts, v.tool, coalesce(v.model, ''), coalesce(v.session, ''),
		       coalesce(v.project, ''), k.person_key, k.team_id, k.cost_center_id,
		       b.device_id, v.batch_ref, coalesce(nullif(v.billing_mode, ''), 'unknown'),
		       coalesce(v.speed, ''), coalesce(v.service_tier, ''),
		       coalesce(v.input_tokens, 0), coalesce(v.output_tokens, 0),
		       coalesce(v.cache_write_5m_tokens, 0), coalesce(v.cache_write_1h_tokens, 0),
		       coalesce(v.cache_read_tokens, 0), coalesce(v.reasoning_tokens, 0),
		       coalesce(v.web_search_requests, 0),
		       aimeter.price_cost(p.input_per_mtok, p.output_per_mtok,
			       p.cache_write_5m_per_mtok, p.cache_write_1h_per_mtok,
			       p.cache_read_per_mtok, p.long_context_threshold_tokens,
			       p.long_context_input_per_mtok, p.long_context_output_per_mtok,
			       p.web_search_per_1k, p.fast_multiplier,
			       coalesce(v.input_tokens, 0), coalesce(v.output_tokens, 0),
			       coalesce(v.cache_write_5m_tokens, 0),
			       coalesce(v.cache_write_1h_tokens, 0),
			       coalesce(v.cache_read_tokens, 0),
			       coalesce(v.web_search_requests, 0), v.speed),
		       p.price_id
		  FROM v
		  JOIN keys k ON k.identity_hmac = coalesce(v.identity_hmac, '')
			     AND k.team_hint = coalesce(v.team_hint, '') AND k.day = v.day
		  LEFT JOIN pg_temp.am_stage_batch b ON b.batch_idx = v.batch_idx
		  LEFT JOIN pr p ON p.model = coalesce(v.model, '') AND v.ts >= p.t0
				AND (p.t1 IS NULL OR v.ts < p.t1)
		 WHERE v.reason IS NULL
		@ON_CONFLICT@
		RETURNING e.batch_ref, e.ts, e.person_key, e.team_id, e.cost_center_id, e.tool,
			  e.model, e.billing_mode, e.input_tokens, e.output_tokens,
			  e.cache_write_5m_tokens, e.cache_write_1h_tokens, e.cache_read_tokens,
			  e.reasoning_tokens, e.web_search_requests, e.cost, e.price_id
	), g AS MATERIALIZED (
		-- The returned rows, grouped once: rollups and counts read this.
		SELECT ins.batch_ref, (ins.ts AT TIME ZONE 'UTC')::date AS day,
		       coalesce(ins.person_key, '') AS person_key, ins.team_id, ins.cost_center_id,
		       ins.tool, ins.model, ins.billing_mode, count(*) AS events,
		       sum(ins.input_tokens) AS input_tokens, sum(ins.output_tokens) AS output_tokens,
		       sum(ins.cache_write_5m_tokens) AS cache_write_5m_tokens,
		       sum(ins.cache_write_1h_tokens) AS cache_write_1h_tokens,
		       sum(ins.cache_read_tokens) AS cache_read_tokens,
		       sum(ins.reasoning_tokens) AS reasoning_tokens,
		       sum(ins.web_search_requests) AS web_search_requests,
		       coalesce(sum(ins.cost), 0) AS cost,
		       count(*) FILTER (WHERE ins.price_id IS NULL) AS unpriced_events
		  FROM ins
		 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
	), c AS MATERIALIZED (
		SELECT v.batch_ref, count(*) AS total,
		       count(*) FILTER (WHERE v.reason IS NOT NULL) AS rej,
		       jsonb_agg(jsonb_build_object('ord', v.ord, 'reason', v.reason) ORDER BY v.ord)
			       FILTER (WHERE v.reason IS NOT NULL) AS rejections
		  FROM v GROUP BY v.batch_ref
	), ib AS (
		INSERT INTO aimeter.ingest_batches AS l (batch_ref, device_id, batch_id, events_sent,
						 spool_dropped, inserted, duplicates, rejected)
		SELECT wb.batch_ref, b.device_id, b.batch_id,
		       CASE WHEN coalesce(b.events_sent, 0) > 0 THEN b.events_sent
			    ELSE coalesce(c.total, 0) END,
		       coalesce(b.spool_dropped, 0), coalesce(n.ins, 0),
		       coalesce(c.total, 0) - coalesce(c.rej, 0) - coalesce(n.ins, 0),
		       coalesce(c.rej, 0)
		  FROM wb
		  LEFT JOIN pg_temp.am_stage_batch b ON b.batch_idx = wb.batch_idx
		  LEFT JOIN c ON c.batch_ref = wb.batch_ref
		  LEFT JOIN (SELECT g.batch_ref, sum(g.events)::int AS ins FROM g GROUP BY 1) n
			 ON n.batch_ref = wb.batch_ref
		RETURNING l.batch_ref, l.inserted, l.duplicates, l.rejected
	), rej AS (
		INSERT INTO aimeter.rejected_events (batch_ref, ord, event_id, ts, tool, model, reason)
		SELECT v.batch_ref, v.ord, v.event_id, v.ts, left(v.tool, 64), left(v.model, 128),
		       v.reason
		  FROM v WHERE v.reason IS NOT NULL
		ON CONFLICT DO NOTHING
	), daily AS (
		-- Written after the main query: the rollup row locks come last.
		INSERT INTO aimeter.usage_daily AS d
		SELECT g.day, g.person_key, g.team_id, g.cost_center_id, g.tool, g.model,
		       g.billing_mode, sum(g.events), sum(g.input_tokens), sum(g.output_tokens),
		       sum(g.cache_write_5m_tokens), sum(g.cache_write_1h_tokens),
		       sum(g.cache_read_tokens), sum(g.reasoning_tokens), sum(g.web_search_requests),
		       sum(g.cost), sum(g.unpriced_events)
		  FROM g
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
		SELECT date_trunc('month', g.day::timestamp)::date, g.team_id, g.cost_center_id, g.tool, g.model,
		       g.billing_mode, sum(g.events), sum(g.input_tokens), sum(g.output_tokens),
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
	SELECT wb.batch_idx, ib.inserted, ib.duplicates, ib.rejected,
	       coalesce(c.rejections, '[]'::jsonb)
	  FROM ib JOIN wb ON wb.batch_ref = ib.batch_ref
	  LEFT JOIN c ON c.batch_ref = ib.batch_ref
	 ORDER BY wb.batch_idx;
END
$fn$;
REVOKE ALL ON FUNCTION aimeter.@NAME@() FROM PUBLIC;
$tmpl$;
BEGIN
	-- Plain INSERT: events are new (the common case); a duplicate fails it.
	EXECUTE replace(replace(tmpl, '@NAME@', 'ingest_staged_new'), '@ON_CONFLICT@', '');
	-- INSERT ... ON CONFLICT DO NOTHING: replays and retries.
	EXECUTE replace(replace(tmpl, '@NAME@', 'ingest_staged_dedup'), '@ON_CONFLICT@',
			'ON CONFLICT DO NOTHING');
END
$mig$;

-- aimeter.ingest_staged(): the partition check, then the statement as a
-- plain INSERT; when that meets an event already stored (a replay, a retry
-- whose first attempt committed), its subtransaction is rolled back whole
-- and the ON CONFLICT DO NOTHING form runs instead. The arbiter probe of ON
-- CONFLICT was a fifth of the backend's time on new events.
CREATE OR REPLACE FUNCTION aimeter.ingest_staged()
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
	v_lo timestamptz;
	v_hi timestamptz;
	v_month date;
BEGIN
	-- Partitions for the months of the rows that can be accepted. Mostly
	-- one month: two probes of the catalog cache.
	SELECT min(s.ts), max(s.ts) INTO v_lo, v_hi
	  FROM pg_temp.am_stage s CROSS JOIN aimeter.settings cfg
	 WHERE s.ts <= now() + cfg.future_tolerance
	   AND s.ts >= now() - make_interval(months => cfg.backfill_horizon_months);
	IF v_lo IS NOT NULL THEN
		IF date_trunc('month', v_lo AT TIME ZONE 'UTC')
		   = date_trunc('month', v_hi AT TIME ZONE 'UTC') THEN
			PERFORM aimeter.ensure_partition((v_lo AT TIME ZONE 'UTC')::date);
		ELSE
			FOR v_month IN
				SELECT DISTINCT date_trunc('month', s.ts AT TIME ZONE 'UTC')::date
				  FROM pg_temp.am_stage s
				 WHERE s.ts BETWEEN v_lo AND v_hi
			LOOP
				PERFORM aimeter.ensure_partition(v_month);
			END LOOP;
		END IF;
	END IF;
	BEGIN
		RETURN QUERY SELECT * FROM aimeter.ingest_staged_new();
	EXCEPTION WHEN unique_violation THEN
		RETURN QUERY SELECT * FROM aimeter.ingest_staged_dedup();
	END;
END
$$;
