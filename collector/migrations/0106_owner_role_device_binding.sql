-- 0106_owner_role_device_binding.sql (issue 11): definer code trusts nothing
-- the caller can create; the schema belongs to a non-superuser owner role;
-- per-event rejection with a reason the collector sets; plausibility caps;
-- identities seen per device, new identity claims counted, admin pins.
-- See docs/write-path.md.
--
-- Before: ingest_staged() (SECURITY DEFINER, owned by postgres) read
-- pg_temp.am_stage* by name, and the usage_daily activity trigger wrote
-- pg_temp.am_act_new. A session of aimeter_ingest could create those
-- first, as views calling its own functions or with triggers, which then
-- ran as the superuser. Now:
--   - aimeter.ingest_staged() is SECURITY INVOKER: it reads the caller's
--     temp tables as the caller and passes their rows as arrays of the
--     template row types to aimeter.ingest_rows() (SECURITY DEFINER), which
--     reads only its arguments and aimeter's own tables;
--   - the activity trigger reads its transition table, never pg_temp;
--   - every object is owned by aimeter_owner (NOLOGIN, not a superuser);
--     `aimeterctl migrate` creates it and runs migration bodies under
--     SET ROLE aimeter_owner; the part above the marker line below runs as
--     the connecting superuser and hands the earlier migrations' objects
--     over.
--
-- Audit of the other SECURITY DEFINER functions (all SET search_path =
-- pg_catalog, pg_temp, every relation schema-qualified): reattribute() and
-- reattribute_rollups() make their scratch tables with CREATE TEMP TABLE
-- (no IF NOT EXISTS), so a caller's table of that name makes them fail,
-- never read; the others use no temporary relation.

-- ---------------------------------------------------------------------------
-- As the superuser: aimeter's objects (schemas aimeter and reporting) that
-- the earlier migrations made as a superuser, or as whoever runs this, go
-- to aimeter_owner. Objects of other owners (an admin's own) stay theirs.
DO $adopt$
DECLARE
	o record;
	v_me oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
BEGIN
	FOR o IN
		SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
		 WHERE n.nspname IN ('aimeter', 'reporting') AND r.rolname <> 'aimeter_owner'
		   AND (r.rolsuper OR r.oid = v_me)
	LOOP
		EXECUTE format('ALTER SCHEMA %I OWNER TO aimeter_owner', o.nspname);
	END LOOP;
	-- Tables first: their owned sequences and indexes follow them.
	FOR o IN
		SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		  JOIN pg_roles r ON r.oid = c.relowner
		 WHERE n.nspname IN ('aimeter', 'reporting') AND r.rolname <> 'aimeter_owner'
		   AND (r.rolsuper OR r.oid = v_me)
		   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
		   AND NOT (c.relkind = 'S' AND EXISTS (
			SELECT 1 FROM pg_depend d
			 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
			   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
		 ORDER BY c.relkind = 'S', c.oid
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO aimeter_owner',
			       CASE o.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
					      WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE'
					      ELSE 'TABLE' END, o.rel);
	END LOOP;
	FOR o IN
		SELECT p.oid::regprocedure AS fn FROM pg_proc p
		  JOIN pg_namespace n ON n.oid = p.pronamespace
		  JOIN pg_roles r ON r.oid = p.proowner
		 WHERE n.nspname IN ('aimeter', 'reporting') AND r.rolname <> 'aimeter_owner'
		   AND (r.rolsuper OR r.oid = v_me) AND p.prokind IN ('f', 'p')
	LOOP
		EXECUTE format('ALTER ROUTINE %s OWNER TO aimeter_owner', o.fn);
	END LOOP;
	-- Domains, enums, ranges and free-standing composite types.
	FOR o IN
		SELECT t.oid::regtype AS typ FROM pg_type t
		  JOIN pg_namespace n ON n.oid = t.typnamespace
		  JOIN pg_roles r ON r.oid = t.typowner
		  LEFT JOIN pg_class c ON c.oid = t.typrelid
		 WHERE n.nspname IN ('aimeter', 'reporting') AND r.rolname <> 'aimeter_owner'
		   AND (r.rolsuper OR r.oid = v_me)
		   AND (t.typtype IN ('d', 'e', 'r', 'm') OR (t.typtype = 'c' AND c.relkind = 'c'))
	LOOP
		EXECUTE format('ALTER TYPE %s OWNER TO aimeter_owner', o.typ);
	END LOOP;
END
$adopt$;

-- migrate: the rest runs as aimeter_owner
-- (collector/ctl/migrate.c splits the migration at the line above.)

-- ---------------------------------------------------------------------------
-- Nobody but the owner may add triggers to aimeter's tables: a trigger
-- fires as whoever writes, and the definer functions write as the owner.
REVOKE TRIGGER ON ALL TABLES IN SCHEMA aimeter FROM PUBLIC, aimeter_admin, aimeter_ingest,
	aimeter_reader;
-- Nor create objects in schema aimeter next to the definer functions.
REVOKE CREATE ON SCHEMA aimeter FROM aimeter_admin;

-- ---------------------------------------------------------------------------
-- Activity from usage_daily's insert transition table, directly: no
-- pg_temp scratch table (a caller could have made one with a trigger), no
-- function taking a relation by name.
DROP FUNCTION aimeter.activity_add_from(regclass);

CREATE OR REPLACE FUNCTION aimeter.usage_daily_activity_tg()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	-- am_daily_new is the transition table: a name the parser resolves
	-- before any relation of the session's temporary schema.
	IF NOT EXISTS (SELECT 1 FROM am_daily_new n WHERE n.person_key <> '') THEN
		RETURN NULL;
	END IF;
	WITH src AS (
		SELECT DISTINCT n.day, n.team_id, n.tool, n.person_key FROM am_daily_new n
		 WHERE n.person_key <> ''
		UNION
		SELECT DISTINCT n.day, n.team_id, '*', n.person_key FROM am_daily_new n
		 WHERE n.person_key <> ''
	), added AS (
		INSERT INTO aimeter.activity_daily AS a (day, team_id, tool, person_key)
		SELECT s.day, s.team_id, s.tool, s.person_key FROM src s ORDER BY 1, 2, 3, 4
		ON CONFLICT DO NOTHING
		RETURNING a.*
	), seen AS (
		INSERT INTO aimeter.activity_seen AS x
		SELECT w.person_key, w.tool, min(w.day), max(w.day) FROM added w
		 GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (person_key, tool) DO UPDATE
			SET first_day = least(x.first_day, excluded.first_day),
			    last_day = greatest(x.last_day, excluded.last_day)
	), wk AS (
		INSERT INTO aimeter.activity_weekly AS w
		SELECT date_trunc('week', d.day)::date, d.team_id, d.tool, d.person_key, count(*)
		  FROM added d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (week, team_id, tool, person_key)
		DO UPDATE SET active_days = w.active_days + excluded.active_days
	)
	INSERT INTO aimeter.activity_monthly AS m
	SELECT date_trunc('month', d.day)::date, d.team_id, d.tool, d.person_key, count(*)
	  FROM added d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (month, team_id, tool, person_key)
	DO UPDATE SET active_days = m.active_days + excluded.active_days;
	RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------
-- Plausibility caps (per event; configurable). No model call comes near
-- them: the largest context windows are about 2 million tokens and output
-- is capped far below, so one count above 10^8 (50 times the largest
-- window) or a sum above 2 * 10^8 is a broken or forged line. 600 calls in
-- one minute from one device is ten a second, sustained, from one machine.
ALTER TABLE aimeter.settings
	ADD COLUMN max_tokens_per_count bigint NOT NULL DEFAULT 100000000
		CHECK (max_tokens_per_count > 0),
	ADD COLUMN max_tokens_per_call bigint NOT NULL DEFAULT 200000000
		CHECK (max_tokens_per_call > 0),
	ADD COLUMN max_calls_per_minute int NOT NULL DEFAULT 600 CHECK (max_calls_per_minute > 0);

-- The collector's own verdict on an event it could not stage as is (a
-- timestamp before 1970, a count past any bound): NULL = fine.
ALTER TABLE aimeter.stage_event_template ADD COLUMN reject_reason text;

-- ---------------------------------------------------------------------------
-- A device speaks only for itself: the identities each device has sent
-- events for, and the admin's pins (docs/write-path.md). Admin only: the
-- reader and ingest roles read neither.
CREATE TABLE aimeter.device_identities (
	device_id uuid NOT NULL,
	identity_hmac bytea NOT NULL,
	first_seen timestamptz NOT NULL DEFAULT now(),
	last_seen timestamptz NOT NULL DEFAULT now(),
	events bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (device_id, identity_hmac)
);

-- A pinned device (directly, or through the enrollment secret it enrolled
-- with) may send events only for its pinned identities or pinned teams
-- (the team attribution gives the event); others are rejected per event
-- as identity_not_allowed.
CREATE TABLE aimeter.device_pins (
	pin_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	device_id uuid REFERENCES aimeter.devices ON DELETE CASCADE,
	secret_hash bytea REFERENCES aimeter.enrollment_secrets ON DELETE CASCADE,
	identity_hmac bytea CHECK (length(identity_hmac) = 32),
	team_id int REFERENCES aimeter.teams ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by text NOT NULL DEFAULT session_user,
	CHECK ((device_id IS NULL) <> (secret_hash IS NULL)),
	CHECK ((identity_hmac IS NULL) <> (team_id IS NULL)),
	UNIQUE NULLS NOT DISTINCT (device_id, secret_hash, identity_hmac, team_id)
);
CREATE INDEX ON aimeter.device_pins (device_id);
CREATE INDEX ON aimeter.device_pins (secret_hash);

-- New identity claims (a device with identities sending a new one), per batch.
ALTER TABLE aimeter.ingest_batches ADD COLUMN new_identities int NOT NULL DEFAULT 0;

-- ---------------------------------------------------------------------------
-- The write path. aimeter.ingest_rows(batches, events) is the definer: its
-- only inputs are its arguments (values of the owner's template row types,
-- which carry no code) and aimeter's tables. Two forms as in 0104: a plain
-- INSERT first, ON CONFLICT DO NOTHING after a duplicate.
DROP FUNCTION aimeter.ingest_staged();
DROP FUNCTION aimeter.ingest_staged_new();
DROP FUNCTION aimeter.ingest_staged_dedup();

DO $mig$
DECLARE
	tmpl text := $tmpl$
CREATE FUNCTION aimeter.@NAME@(p_batches aimeter.stage_batch_template[],
			       p_events aimeter.stage_event_template[])
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb,
	       new_identities int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
-- Hash joins at any size, no JIT, one generic plan per session (see 0104).
SET enable_nestloop = off
SET jit = off
SET plan_cache_mode = force_generic_plan AS $fn$
BEGIN
	RETURN QUERY
	WITH cfg AS MATERIALIZED (
		-- Read through scalar subqueries (init plans, once per call): a
		-- join would copy every row of the call.
		SELECT now() + s.future_tolerance AS latest,
		       now() - make_interval(months => s.backfill_horizon_months) AS earliest,
		       s.max_tokens_per_count, s.max_tokens_per_call, s.max_calls_per_minute,
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
			-- numeric: seven bigints may not fit one.
			WHEN coalesce(s.input_tokens, 0)::numeric + coalesce(s.output_tokens, 0)
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
	), v AS MATERIALIZED (
		-- Pins, then the rate cap: past max_calls_per_minute events of one
		-- device in one minute (in this call, first by batch and position),
		-- the rest are rejected. An event already stored (dup) counts but
		-- is never rejected, so a replay rejects what the first call did.
		SELECT x.*,
		       coalesce(x.reason0, x.pin_reason,
				CASE WHEN x.rated AND NOT x.dup AND row_number() OVER (
					PARTITION BY x.rated, x.device_id, date_trunc('minute', x.ts)
					ORDER BY x.batch_idx, x.ord) > (SELECT c.max_calls_per_minute FROM cfg c)
				     THEN 'implausible_rate' END) AS reason
		  FROM (SELECT y.*, y.reason0 IS NULL AND y.pin_reason IS NULL
				    AND y.device_id IS NOT NULL AS rated
			  FROM (SELECT v0.*, k.person_key, k.team_id, k.cost_center_id,
				       CASE WHEN v0.reason0 IS NULL AND v0.device_id IS NOT NULL
					     AND @DUP@ THEN true ELSE false END AS dup,
				       CASE WHEN v0.reason0 IS NULL AND (SELECT c.any_pins FROM cfg c)
					     AND v0.device_id IN (SELECT p.device_id FROM pins p)
					     AND NOT EXISTS (
						SELECT 1 FROM pins p
						 WHERE p.device_id = v0.device_id
						   AND (p.identity_hmac = v0.identity_hmac
							OR p.team_id = k.team_id))
					    THEN 'identity_not_allowed' END AS pin_reason
				  FROM v0
				  LEFT JOIN keys k ON v0.reason0 IS NULL
					 AND k.identity_hmac = coalesce(v0.identity_hmac, '')
					 AND k.team_hint = coalesce(v0.team_hint, '')
					 AND k.day = v0.day) y) x
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
			       coalesce(v.input_tokens, 0), coalesce(v.output_tokens, 0),
			       coalesce(v.cache_write_5m_tokens, 0),
			       coalesce(v.cache_write_1h_tokens, 0),
			       coalesce(v.cache_read_tokens, 0),
			       coalesce(v.web_search_requests, 0), v.speed),
		       p.price_id
		  FROM v
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
	), di AS MATERIALIZED (
		-- Identities this call's devices sent accepted, new events for.
		SELECT v.device_id, v.identity_hmac, min(v.batch_ref) AS batch_ref, count(*) AS events
		  FROM v
		 WHERE v.reason IS NULL AND NOT v.dup AND v.device_id IS NOT NULL
		   AND v.identity_hmac IS NOT NULL
		 GROUP BY 1, 2
	), din AS MATERIALIZED (
		-- New claims: an identity new to a device that already had one.
		SELECT di.batch_ref, count(*) AS n
		  FROM di
		 WHERE EXISTS (SELECT 1 FROM aimeter.device_identities x WHERE x.device_id = di.device_id)
		   AND NOT EXISTS (SELECT 1 FROM aimeter.device_identities x
				    WHERE x.device_id = di.device_id
				      AND x.identity_hmac = di.identity_hmac)
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
		  LEFT JOIN (SELECT g.batch_ref, sum(g.events)::int AS ins FROM g GROUP BY 1) n
			 ON n.batch_ref = wb.batch_ref
		RETURNING l.batch_ref, l.inserted, l.duplicates, l.rejected, l.new_identities
	), rej AS (
		INSERT INTO aimeter.rejected_events (batch_ref, ord, event_id, ts, tool, model, reason)
		SELECT v.batch_ref, v.ord, v.event_id, v.ts, left(v.tool, 64), left(v.model, 128),
		       v.reason
		  FROM v WHERE v.reason IS NOT NULL
		ON CONFLICT DO NOTHING
	), diu AS (
		INSERT INTO aimeter.device_identities AS x (device_id, identity_hmac, first_seen,
							   last_seen, events)
		SELECT di.device_id, di.identity_hmac, now(), now(), di.events
		  FROM di ORDER BY 1, 2
		ON CONFLICT (device_id, identity_hmac)
		DO UPDATE SET last_seen = excluded.last_seen, events = x.events + excluded.events
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
	SELECT wb.batch_idx, ib.inserted, ib.duplicates, ib.rejected,
	       coalesce(c.rejections, '[]'::jsonb), ib.new_identities
	  FROM ib JOIN wb ON wb.batch_ref = ib.batch_ref
	  LEFT JOIN c ON c.batch_ref = ib.batch_ref
	 ORDER BY wb.batch_idx;
END
$fn$;
REVOKE ALL ON FUNCTION aimeter.@NAME@(aimeter.stage_batch_template[],
				      aimeter.stage_event_template[]) FROM PUBLIC;
$tmpl$;
BEGIN
	-- Plain INSERT: events are new (the common case); a duplicate fails it.
	EXECUTE replace(replace(replace(tmpl, '@NAME@', 'ingest_rows_new'), '@ON_CONFLICT@', ''),
			'@DUP@', 'false');
	-- INSERT ... ON CONFLICT DO NOTHING: replays and retries. Stored events
	-- are looked up, so they count for neither the rate nor the identities.
	EXECUTE replace(replace(replace(tmpl, '@NAME@', 'ingest_rows_dedup'), '@ON_CONFLICT@',
				'ON CONFLICT DO NOTHING'),
			'@DUP@', 'EXISTS (SELECT 1 FROM aimeter.usage_events u'
				 ' WHERE u.event_id = v0.event_id AND u.ts = v0.ts)');
END
$mig$;

-- aimeter.ingest_rows(batches, events): partitions for the months that can
-- be accepted, then the plain form; a duplicate rolls that back whole and
-- the ON CONFLICT form runs instead (0104).
CREATE FUNCTION aimeter.ingest_rows(p_batches aimeter.stage_batch_template[],
				    p_events aimeter.stage_event_template[])
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb,
	       new_identities int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
	v_lo timestamptz;
	v_hi timestamptz;
	v_month date;
BEGIN
	SELECT min(s.ts), max(s.ts) INTO v_lo, v_hi
	  FROM unnest(p_events) s CROSS JOIN aimeter.settings cfg
	 WHERE s.ts <= now() + cfg.future_tolerance
	   AND s.ts >= now() - make_interval(months => cfg.backfill_horizon_months)
	   AND s.ts >= '1970-01-01 00:00:00+00' AND coalesce(s.reject_reason, '') = '';
	IF v_lo IS NOT NULL THEN
		IF date_trunc('month', v_lo AT TIME ZONE 'UTC')
		   = date_trunc('month', v_hi AT TIME ZONE 'UTC') THEN
			PERFORM aimeter.ensure_partition((v_lo AT TIME ZONE 'UTC')::date);
		ELSE
			FOR v_month IN
				SELECT DISTINCT date_trunc('month', s.ts AT TIME ZONE 'UTC')::date
				  FROM unnest(p_events) s
				 WHERE s.ts BETWEEN v_lo AND v_hi
			LOOP
				PERFORM aimeter.ensure_partition(v_month);
			END LOOP;
		END IF;
	END IF;
	BEGIN
		RETURN QUERY SELECT * FROM aimeter.ingest_rows_new(p_batches, p_events);
	EXCEPTION WHEN unique_violation THEN
		RETURN QUERY SELECT * FROM aimeter.ingest_rows_dedup(p_batches, p_events);
	END;
END
$$;

-- aimeter.ingest_staged(): what the collector and aimeterctl call after
-- their COPYs. SECURITY INVOKER: the caller's temp tables are read with the
-- caller's rights, whatever they are; only their values reach the definer.
CREATE FUNCTION aimeter.ingest_staged()
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb,
	       new_identities int)
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN QUERY SELECT * FROM aimeter.ingest_rows(
		ARRAY(SELECT ROW(b.batch_idx, b.device_id, b.batch_id, b.events_sent,
				 b.spool_dropped)::aimeter.stage_batch_template
			FROM pg_temp.am_stage_batch b),
		ARRAY(SELECT ROW(s.batch_idx, s.ord, s.event_id, s.ts, s.tool, s.model, s.session,
				 s.project, s.identity_hmac, s.team_hint, s.billing_mode,
				 s.input_tokens, s.output_tokens, s.cache_write_5m_tokens,
				 s.cache_write_1h_tokens, s.cache_read_tokens, s.reasoning_tokens,
				 s.web_search_requests, s.speed, s.service_tier,
				 s.reject_reason)::aimeter.stage_event_template
			FROM pg_temp.am_stage s));
END
$$;

REVOKE ALL ON FUNCTION aimeter.ingest_staged(),
	aimeter.ingest_rows(aimeter.stage_batch_template[], aimeter.stage_event_template[])
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.ingest_staged(),
	aimeter.ingest_rows(aimeter.stage_batch_template[], aimeter.stage_event_template[])
	TO aimeter_ingest, aimeter_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON aimeter.device_identities, aimeter.device_pins
	TO aimeter_admin;
