-- aimeter.ingest_rows_dedup(batches, events): the write path's form for
-- replays and retries, called by aimeter.ingest_rows() after a duplicate:
-- INSERT ... ON CONFLICT DO NOTHING. Stored events are looked up: the caps'
-- tables count them already, and identities too.
-- Hash joins at any size, no JIT, one generic plan per session: the
-- arguments have no statistics, and JIT would cost more than the batch.
-- Its twin, aimeter.ingest_rows_new(), differs only where the write
-- path differs: ON CONFLICT DO NOTHING and the lookup
-- of stored events.
CREATE OR REPLACE FUNCTION aimeter.ingest_rows_dedup(p_batches aimeter.stage_batch_template[], p_events aimeter.stage_event_template[])
 RETURNS TABLE(batch_idx integer, inserted integer, duplicates integer, rejected integer, rejections jsonb, new_identities integer)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET client_min_messages TO 'warning'
 SET enable_nestloop TO 'off'
 SET jit TO 'off'
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
BEGIN
	RETURN QUERY
	WITH cfg AS MATERIALIZED (
		-- Read through scalar subqueries (init plans, once per call): a
		-- join would copy every row of the call.
		SELECT now() + s.future_tolerance AS latest,
		       now() - make_interval(months => s.backfill_horizon_months) AS earliest,
		       s.max_tokens_per_count, s.max_tokens_per_call, s.max_calls_per_minute,
		       s.max_tokens_per_device_day,
		       EXISTS (SELECT 1 FROM aimeter.erased_identities) AS any_erased,
		       EXISTS (SELECT 1 FROM aimeter.device_pins) AS any_pins
		  FROM aimeter.settings s
	), bt AS MATERIALIZED (
		SELECT b.* FROM unnest(p_batches) b WHERE b.batch_idx IS NOT NULL
	), wb AS MATERIALIZED (
		-- One batch log row per batch_idx, with or without a batch row.
		SELECT i.batch_idx, (SELECT b.device_id FROM bt b WHERE b.batch_idx = i.batch_idx
				      LIMIT 1) AS device_id,
		       nextval(pg_get_serial_sequence('aimeter.ingest_batches', 'batch_ref')) AS batch_ref
		  FROM (SELECT b.batch_idx FROM bt b
			UNION
			SELECT s.batch_idx FROM unnest(p_events) s
			 WHERE s.batch_idx IS NOT NULL AND s.ord IS NOT NULL) i
	), v0 AS MATERIALIZED (
		-- Validation: the first reason that applies. A place for more checks.
		SELECT s.*, (s.ts AT TIME ZONE 'UTC')::date AS day, wb.batch_ref, wb.device_id,
		       date_trunc('minute', s.ts, 'UTC') AS minute,
		       CASE
			WHEN s.reject_reason <> '' THEN left(s.reject_reason, 64)
			WHEN s.event_id IS NULL OR length(s.event_id) <> 16 THEN 'bad_event_id'
			WHEN s.ts IS NULL THEN 'missing_timestamp'
			WHEN s.ts < '1970-01-01 00:00:00+00' THEN 'bad_timestamp'
			WHEN s.tool IS NULL OR NOT (s.tool IN (SELECT t.tool FROM aimeter.tools t))
				THEN 'unknown_tool'
			WHEN coalesce(s.input_tokens, 0) < 0 OR coalesce(s.output_tokens, 0) < 0
			  OR coalesce(s.cache_write_5m_tokens, 0) < 0
			  OR coalesce(s.cache_write_1h_tokens, 0) < 0
			  OR coalesce(s.cache_read_tokens, 0) < 0 OR coalesce(s.reasoning_tokens, 0) < 0
			  OR coalesce(s.web_search_requests, 0) < 0
				THEN 'negative_count'
			WHEN greatest(s.input_tokens, s.output_tokens, s.cache_write_5m_tokens,
				      s.cache_write_1h_tokens, s.cache_read_tokens, s.reasoning_tokens,
				      s.web_search_requests) > (SELECT c.max_tokens_per_count FROM cfg c)
				THEN 'implausible_count'
			-- float8 first (cheap; within 2^16 of the exact sum of six
			-- bigints), numeric only near the cap: six bigints may not
			-- fit one, and the verdict stays exact.
			WHEN coalesce(s.input_tokens, 0)::float8 + coalesce(s.output_tokens, 0)
			     + coalesce(s.cache_write_5m_tokens, 0) + coalesce(s.cache_write_1h_tokens, 0)
			     + coalesce(s.cache_read_tokens, 0) + coalesce(s.reasoning_tokens, 0)
			     > (SELECT c.max_tokens_per_call FROM cfg c)::float8 - 65536
			 AND coalesce(s.input_tokens, 0)::numeric + coalesce(s.output_tokens, 0)
			     + coalesce(s.cache_write_5m_tokens, 0) + coalesce(s.cache_write_1h_tokens, 0)
			     + coalesce(s.cache_read_tokens, 0) + coalesce(s.reasoning_tokens, 0)
			     > (SELECT c.max_tokens_per_call FROM cfg c)
				THEN 'implausible_count'
			WHEN s.billing_mode IS NOT NULL
			 AND s.billing_mode NOT IN ('subscription', 'api', 'cloud', 'unknown', '')
				THEN 'bad_billing_mode'
			WHEN s.ts > (SELECT c.latest FROM cfg c) THEN 'future_timestamp'
			WHEN s.ts < (SELECT c.earliest FROM cfg c) THEN 'beyond_horizon'
			WHEN s.identity_hmac IS NOT NULL AND (SELECT c.any_erased FROM cfg c) AND EXISTS (
				SELECT 1 FROM aimeter.erased_identities x
				 WHERE x.identity_hmac = s.identity_hmac AND s.ts < x.erased_at)
				THEN 'erased_identity'
		       END AS reason0
		  FROM unnest(p_events) s
		  JOIN wb ON wb.batch_idx = s.batch_idx
		 WHERE s.ord IS NOT NULL
	), keys0 AS MATERIALIZED (
		-- aimeter.attribute(), set-based: person, team, membership override.
		SELECT k.identity_hmac, k.team_hint, k.day,
		       coalesce(pp.person_key, nullif(k.identity_hmac, ''::bytea)) AS person_key,
		       coalesce(mb.team_id, ht.team_id, 0) AS team_id,
		       mb.cost_center_id AS override_cc
		  FROM (SELECT DISTINCT coalesce(v0.identity_hmac, '') AS identity_hmac,
			       coalesce(v0.team_hint, '') AS team_hint, v0.day
			  FROM v0 WHERE v0.reason0 IS NULL) k
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
	), pins AS MATERIALIZED (
		-- The pins of the devices in this call: their own and their secret's.
		SELECT d.device_id, p.identity_hmac, p.team_id
		  FROM (SELECT DISTINCT wb.device_id FROM wb, cfg
			 WHERE cfg.any_pins AND wb.device_id IS NOT NULL) d
		  JOIN aimeter.device_pins p ON p.device_id = d.device_id
		UNION ALL
		SELECT d.device_id, p.identity_hmac, p.team_id
		  FROM (SELECT DISTINCT wb.device_id FROM wb, cfg
			 WHERE cfg.any_pins AND wb.device_id IS NOT NULL) d
		  JOIN aimeter.devices dv ON dv.device_id = d.device_id
		  JOIN aimeter.device_pins p ON p.secret_hash = dv.enrolled_with
	), dmin AS MATERIALIZED (
		-- What earlier calls stored for the devices and minutes of this
		-- call, and for their days (index ranges: see cap_minute_calls).
		SELECT s.* FROM (SELECT array_agg(d.device_id) AS ds, array_agg(d.minute) AS ms
				   FROM (SELECT DISTINCT v0.device_id, v0.minute FROM v0
					  WHERE v0.reason0 IS NULL AND v0.device_id IS NOT NULL) d) a
		 CROSS JOIN LATERAL aimeter.cap_minute_calls(a.ds, a.ms) s
	), dday AS MATERIALIZED (
		SELECT s.* FROM (SELECT array_agg(d.device_id) AS ds, array_agg(d.day) AS dys
				   FROM (SELECT DISTINCT v0.device_id, v0.day FROM v0
					  WHERE v0.reason0 IS NULL AND v0.device_id IS NOT NULL) d) a
		 CROSS JOIN LATERAL aimeter.cap_day_tokens(a.ds, a.dys) s
	), vx AS MATERIALIZED (
		-- Each event with its attribution, its pin verdict and what the
		-- caps read: rated = a new event of a device that passed every
		-- check so far; the calls and tokens stored for its device and
		-- minute and day by earlier calls.
		SELECT y.*, y.reason0 IS NULL AND y.pin_reason IS NULL AND NOT y.dup
			    AND y.device_id IS NOT NULL AS rated,
		       coalesce(dm.calls, 0) AS stored_calls,
		       coalesce(dd.tokens, 0)::float8 AS stored_tokens,
		       -- float8: exact below 2^53, far above any cap, and summed
		       -- much faster than numeric.
		       coalesce(y.input_tokens, 0)::float8 + coalesce(y.output_tokens, 0)
		       + coalesce(y.cache_write_5m_tokens, 0) + coalesce(y.cache_write_1h_tokens, 0)
		       + coalesce(y.cache_read_tokens, 0) + coalesce(y.reasoning_tokens, 0) AS tokens
		  FROM (SELECT v0.*, k.person_key, k.team_id, k.cost_center_id,
			       CASE WHEN v0.reason0 IS NULL AND v0.device_id IS NOT NULL
				     AND EXISTS (SELECT 1 FROM aimeter.usage_events u WHERE u.event_id = v0.event_id AND u.ts = v0.ts) THEN true ELSE false END AS dup,
			       CASE WHEN v0.reason0 IS NULL AND (SELECT c.any_pins FROM cfg c)
				     AND v0.device_id IN (SELECT p.device_id FROM pins p)
				     AND NOT EXISTS (
					SELECT 1 FROM pins p
					 WHERE p.device_id = v0.device_id
					   AND (p.identity_hmac = v0.identity_hmac OR p.team_id = k.team_id))
				    THEN 'identity_not_allowed' END AS pin_reason
			  FROM v0
			  LEFT JOIN keys k ON v0.reason0 IS NULL
				 AND k.identity_hmac = coalesce(v0.identity_hmac, '')
				 AND k.team_hint = coalesce(v0.team_hint, '')
				 AND k.day = v0.day) y
		  LEFT JOIN dmin dm ON dm.device_id = y.device_id AND dm.minute = y.minute
		  LEFT JOIN dday dd ON dd.device_id = y.device_id AND dd.day = y.day
	), capped AS MATERIALIZED (
		-- Whether a cap can reject anything in this call: some device's
		-- minute or day, all its rated events counted, passes its cap.
		-- Usually not, and then the windows below (a sort of every
		-- event) are skipped: a rank or a running sum never exceeds the
		-- total, so they would reject nothing.
		SELECT EXISTS (
			SELECT 1 FROM vx x WHERE x.rated
			 GROUP BY x.device_id, x.minute
			HAVING max(x.stored_calls) + count(*) > (SELECT c.max_calls_per_minute FROM cfg c))
		    OR EXISTS (
			SELECT 1 FROM vx x WHERE x.rated
			 GROUP BY x.device_id, x.day
			HAVING max(x.stored_tokens) + sum(x.tokens)
			       > (SELECT c.max_tokens_per_device_day FROM cfg c)) AS hit
	), v AS MATERIALIZED (
		-- The caps, when capped.hit, on rated events. The rate: calls
		-- stored for the device and minute plus the event's rank among
		-- the call's new ones (by batch and position) past
		-- max_calls_per_minute. Then the day's volume: tokens stored for
		-- the device and day plus the call's events within the rate up to
		-- this one (in time order) past max_tokens_per_device_day. Stored
		-- events (dup) are counted in the tables and never rejected, so a
		-- replay rejects what the first call did. The plain form knows no
		-- dup: an event past a cap is looked up, and a stored one goes on
		-- to the INSERT, whose unique violation sends the call to the ON
		-- CONFLICT form. Both windows share one sort.
		SELECT x.*, NULL::text AS rate_reason, coalesce(x.reason0, x.pin_reason) AS reason
		  FROM vx x
		 WHERE NOT (SELECT c.hit FROM capped c)
		UNION ALL
		SELECT r.*,
		       coalesce(r.reason0, r.pin_reason, r.rate_reason,
				CASE WHEN r.rated AND r.rate_reason IS NULL
					AND r.stored_tokens + sum(r.tokens) FILTER (WHERE r.rate_reason IS NULL)
					    OVER (PARTITION BY r.rated, r.device_id, r.day
						  ORDER BY r.minute, r.batch_idx, r.ord
						  ROWS UNBOUNDED PRECEDING)
					    > (SELECT c.max_tokens_per_device_day FROM cfg c)
				     THEN CASE WHEN NOT false THEN 'implausible_daily_volume' END
				END) AS reason
		  FROM (SELECT x.*,
			       CASE WHEN x.rated AND x.stored_calls + row_number() OVER (
					PARTITION BY x.rated, x.device_id, x.day, x.minute
					ORDER BY x.batch_idx, x.ord) > (SELECT c.max_calls_per_minute FROM cfg c)
				    THEN CASE WHEN NOT false THEN 'implausible_rate' END
			       END AS rate_reason
			  FROM vx x) r
		 WHERE (SELECT c.hit FROM capped c)
	), cand AS MATERIALIZED (
		SELECT m.model, length(p.model_pattern) AS plen, p.*
		  FROM (SELECT DISTINCT coalesce(v.model, '') AS model FROM v WHERE v.reason IS NULL) m
		  JOIN aimeter.prices p ON m.model LIKE p.like_pattern
	), pr AS MATERIALIZED (
		-- Per model, the row that wins from each effective_from of its
		-- candidates until the next one (see 0104).
		SELECT b.model, b.t0, lead(b.t0) OVER (PARTITION BY b.model ORDER BY b.t0) AS t1,
		       w.price_id, w.input_per_mtok, w.output_per_mtok, w.cache_write_5m_per_mtok,
		       w.cache_write_1h_per_mtok, w.cache_read_per_mtok,
		       w.long_context_threshold_tokens, w.long_context_input_per_mtok,
		       w.long_context_output_per_mtok, w.web_search_per_1k, w.fast_multiplier,
		       w.batch_multiplier, w.flex_multiplier, w.priority_multiplier -- issue 16: tiers
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
		       coalesce(v.project, ''), v.person_key, v.team_id, v.cost_center_id,
		       v.device_id, v.batch_ref, coalesce(nullif(v.billing_mode, ''), 'unknown'),
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
			       p.batch_multiplier, p.flex_multiplier, p.priority_multiplier,
			       coalesce(v.input_tokens, 0), coalesce(v.output_tokens, 0),
			       coalesce(v.cache_write_5m_tokens, 0),
			       coalesce(v.cache_write_1h_tokens, 0),
			       coalesce(v.cache_read_tokens, 0),
			       coalesce(v.web_search_requests, 0), v.speed,
			       v.service_tier),
		       p.price_id
		  FROM v
		  LEFT JOIN pr p ON p.model = coalesce(v.model, '') AND v.ts >= p.t0
				AND (p.t1 IS NULL OR v.ts < p.t1)
		 WHERE v.reason IS NULL
		ON CONFLICT DO NOTHING
		RETURNING e.batch_ref, e.device_id, e.ts, e.input_tokens, e.output_tokens,
			  e.cache_write_5m_tokens, e.cache_write_1h_tokens, e.cache_read_tokens,
			  e.reasoning_tokens
	), c AS MATERIALIZED (
		SELECT v.batch_ref, count(*) AS total, count(*) FILTER (WHERE v.reason IS NOT NULL) AS rej
		  FROM v GROUP BY v.batch_ref
	), cj AS MATERIALIZED (
		-- The rejections in order: only the rejected events are sorted.
		SELECT v.batch_ref,
		       jsonb_agg(jsonb_build_object('ord', v.ord, 'reason', v.reason) ORDER BY v.ord)
			       AS rejections
		  FROM v WHERE v.reason IS NOT NULL GROUP BY v.batch_ref
	), di AS MATERIALIZED (
		-- Identities this call's devices sent accepted, new events for.
		SELECT v.device_id, v.identity_hmac, min(v.batch_ref) AS batch_ref, count(*) AS events
		  FROM v
		 WHERE v.reason IS NULL AND NOT v.dup AND v.device_id IS NOT NULL
		   AND v.identity_hmac IS NOT NULL
		 GROUP BY 1, 2
	), known AS MATERIALIZED (
		-- The identities the call's devices had: read by the primary key's
		-- prefix, so an identity known already costs no insert attempt.
		SELECT x.device_id, x.identity_hmac FROM aimeter.device_identities x
		 WHERE x.device_id = ANY ((SELECT array_agg(DISTINCT di.device_id) FROM di)::uuid[])
	), diu AS (
		-- A fresh identity is recorded here (ON CONFLICT DO NOTHING: a
		-- concurrent call may record it first); the counters of known
		-- ones wait in device_identity_pending for aimeter.fold_rollups().
		INSERT INTO aimeter.device_identities AS x (device_id, identity_hmac, first_seen,
							   last_seen, events)
		SELECT di.device_id, di.identity_hmac, now(), now(), di.events
		  FROM di
		 WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.device_id = di.device_id
						      AND k.identity_hmac = di.identity_hmac)
		 ORDER BY 1, 2
		ON CONFLICT (device_id, identity_hmac) DO NOTHING
		RETURNING x.device_id, x.identity_hmac
	), dip AS (
		INSERT INTO aimeter.device_identity_pending (device_id, seen, identity_hmacs, events)
		SELECT di.device_id, now(), array_agg(di.identity_hmac), array_agg(di.events)
		  FROM di
		 WHERE NOT EXISTS (SELECT 1 FROM diu
				    WHERE diu.device_id = di.device_id
				      AND diu.identity_hmac = di.identity_hmac)
		 GROUP BY di.device_id
	), din AS MATERIALIZED (
		-- New claims: an identity new to a device that already had one
		-- (the subquery sees the table as before this statement; one
		-- index probe per new identity, not a scan of the table).
		SELECT di.batch_ref, count(*) AS n
		  FROM diu JOIN di ON di.device_id = diu.device_id AND di.identity_hmac = diu.identity_hmac
		 WHERE (SELECT true FROM aimeter.device_identities x
			 WHERE x.device_id = diu.device_id LIMIT 1)
		 GROUP BY 1
	), ib AS (
		INSERT INTO aimeter.ingest_batches AS l (batch_ref, device_id, batch_id, events_sent,
						 spool_dropped, inserted, duplicates, rejected,
						 new_identities)
		SELECT wb.batch_ref, b.device_id, b.batch_id,
		       CASE WHEN coalesce(b.events_sent, 0) > 0 THEN b.events_sent
			    ELSE coalesce(c.total, 0) END,
		       coalesce(b.spool_dropped, 0), coalesce(n.ins, 0),
		       coalesce(c.total, 0) - coalesce(c.rej, 0) - coalesce(n.ins, 0),
		       coalesce(c.rej, 0), coalesce(din.n, 0)
		  FROM wb
		  LEFT JOIN bt b ON b.batch_idx = wb.batch_idx
		  LEFT JOIN c ON c.batch_ref = wb.batch_ref
		  LEFT JOIN din ON din.batch_ref = wb.batch_ref
		  LEFT JOIN (SELECT ins.batch_ref, count(*)::int AS ins FROM ins GROUP BY 1) n
			 ON n.batch_ref = wb.batch_ref
		RETURNING l.batch_ref, l.inserted, l.duplicates, l.rejected, l.new_identities
	), rej AS (
		INSERT INTO aimeter.rejected_events (batch_ref, ord, event_id, ts, tool, model, reason)
		SELECT v.batch_ref, v.ord, v.event_id, v.ts, left(v.tool, 64), left(v.model, 128),
		       v.reason
		  FROM v WHERE v.reason IS NOT NULL
		ON CONFLICT DO NOTHING
	), dmu AS (
		-- The counts the caps read: exactly the events inserted (RETURNING),
		-- in key order. The rollups are aimeter.fold_rollups()'s.
		INSERT INTO aimeter.device_minute_calls AS m (device_id, minute, calls)
		SELECT ins.device_id, date_trunc('minute', ins.ts, 'UTC'), count(*)
		  FROM ins WHERE ins.device_id IS NOT NULL
		 GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (device_id, minute) DO UPDATE SET calls = m.calls + excluded.calls
	), ddu AS (
		INSERT INTO aimeter.device_day_tokens AS t (device_id, day, tokens)
		SELECT ins.device_id, (ins.ts AT TIME ZONE 'UTC')::date,
		       -- sum(bigint) adds in 128 bits: numeric once per group, not per row.
		       sum(ins.input_tokens) + sum(ins.output_tokens) + sum(ins.cache_write_5m_tokens)
		       + sum(ins.cache_write_1h_tokens) + sum(ins.cache_read_tokens)
		       + sum(ins.reasoning_tokens)
		  FROM ins WHERE ins.device_id IS NOT NULL
		 GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (device_id, day) DO UPDATE SET tokens = t.tokens + excluded.tokens
	)
	SELECT wb.batch_idx, ib.inserted, ib.duplicates, ib.rejected,
	       coalesce(cj.rejections, '[]'::jsonb), ib.new_identities
	  FROM ib JOIN wb ON wb.batch_ref = ib.batch_ref
	  LEFT JOIN cj ON cj.batch_ref = ib.batch_ref
	 ORDER BY wb.batch_idx;
END
$function$;
REVOKE ALL ON FUNCTION aimeter.ingest_rows_dedup(aimeter.stage_batch_template[],aimeter.stage_event_template[]) FROM PUBLIC;
