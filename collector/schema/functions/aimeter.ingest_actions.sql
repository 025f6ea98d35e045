-- aimeter.ingest_actions(rows): store a transaction's action records
-- (docs/actions.md) exactly once and add them to the rollups. The collector
-- calls it in the batch's own transaction, after ingest_staged(), so an ack
-- still means committed. rows: a JSON array the collector built from
-- records the decoder accepted (collector/ingest/actions.c); ts in ms.
-- Upsert rule (specs/outcomes.md B.6): a stored "unknown" record is replaced
-- by a decided one and the rollups moved with it; a decided one stays.
-- Records outside the usage horizon (settings) are left out, like events.
-- Returns the number of records stored or decided now.
CREATE OR REPLACE FUNCTION aimeter.ingest_actions(p_rows jsonb)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
	v_month date;
	v_new int := 0;
	v_decided int := 0;
BEGIN
	IF p_rows IS NULL OR jsonb_array_length(p_rows) = 0 THEN
		RETURN 0;
	END IF;
	CREATE TEMP TABLE IF NOT EXISTS am_action_in (LIKE aimeter.action_events)
		ON COMMIT DELETE ROWS;
	TRUNCATE am_action_in;
	-- Attributed once per identity, team hint and day, not per record: a
	-- call of aimeter.attribute() costs about 0.7 ms, a batch is one
	-- person's calls of a day or two (tests/bench/bench-actions-db.py).
	WITH r AS MATERIALIZED (
		SELECT j.*, to_timestamp(j.ms / 1000.0) AS ts,
		       (to_timestamp(j.ms / 1000.0) AT TIME ZONE 'UTC')::date AS day,
		       coalesce(j.u, '') AS uk, coalesce(j.t, '') AS tk
		  FROM jsonb_to_recordset(p_rows) AS j(id text, ms bigint, tool text, s text, p text,
				u text, t text, d uuid, k text, n text, g text, c text, la bigint,
				lr bigint, pa bigint, pr bigint, x text, cm int, pq int, sa boolean)
		 CROSS JOIN aimeter.settings st
		 WHERE to_timestamp(j.ms / 1000.0) <= now() + st.future_tolerance
		   AND to_timestamp(j.ms / 1000.0) >= date_trunc('month', now() AT TIME ZONE 'UTC')
			       - make_interval(months => st.backfill_horizon_months)
	), keys AS MATERIALIZED (
		SELECT k.uk, k.tk, k.day, a.*
		  FROM (SELECT DISTINCT uk, tk, day FROM r) k
		 CROSS JOIN LATERAL aimeter.attribute(nullif(decode(k.uk, 'hex'), ''::bytea), k.tk,
						      k.day) a
	)
	INSERT INTO am_action_in
	SELECT decode(r.id, 'hex'), r.ts, r.tool, r.s, r.p, nullif(decode(r.uk, 'hex'), ''::bytea),
	       a.team_id, a.cost_center_id, r.d, r.k, r.n, r.g, r.c, r.la, r.lr, r.pa, r.pr,
	       r.x, r.cm, r.pq, r.sa
	  FROM r JOIN keys a ON a.uk = r.uk AND a.tk = r.tk AND a.day = r.day;

	FOR v_month IN SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC')::date
			 FROM am_action_in LOOP
		PERFORM aimeter.ensure_month_partition('action_events', v_month);
	END LOOP;

	-- Unknown records decided now: out of the rollups as they were ...
	CREATE TEMP TABLE IF NOT EXISTS am_action_delta (LIKE aimeter.action_events,
		sign int NOT NULL) ON COMMIT DELETE ROWS;
	TRUNCATE am_action_delta;
	WITH dec AS (
		SELECT DISTINCT ON (i.action_id, i.ts) i.*
		  FROM am_action_in i
		 WHERE i.decision <> 'unknown'
		 ORDER BY i.action_id, i.ts, i.decision
	), old AS (
		SELECT e.* FROM aimeter.action_events e JOIN dec USING (action_id, ts)
		 WHERE e.decision = 'unknown' FOR UPDATE OF e
	), upd AS (
		UPDATE aimeter.action_events e
		   SET decision = dec.decision, lines_added = dec.lines_added,
		       lines_removed = dec.lines_removed, commits = dec.commits,
		       pull_requests = dec.pull_requests
		  FROM dec, old
		 WHERE e.action_id = dec.action_id AND e.ts = dec.ts
		   AND old.action_id = e.action_id AND old.ts = e.ts
		RETURNING e.*
	)
	INSERT INTO am_action_delta
	SELECT o.*, -1 FROM old o
	UNION ALL SELECT u.*, 1 FROM upd u;
	GET DIAGNOSTICS v_decided = ROW_COUNT;

	-- ... and the new ones, exactly once: a replay adds nothing.
	WITH ins AS (
		INSERT INTO aimeter.action_events SELECT * FROM am_action_in
		ON CONFLICT (action_id, ts) DO NOTHING
		RETURNING *
	)
	INSERT INTO am_action_delta SELECT ins.*, 1 FROM ins;
	GET DIAGNOSTICS v_new = ROW_COUNT;

	INSERT INTO aimeter.actions_daily AS d
	SELECT (ts AT TIME ZONE 'UTC')::date, coalesce(person_key, ''::bytea), team_id,
	       cost_center_id, tool, tool_name, target, kind, decision, project, sum(sign),
	       sum(sign * lines_added), sum(sign * lines_removed),
	       sum(sign * proposed_lines_added), sum(sign * proposed_lines_removed),
	       sum(sign * commits), sum(sign * pull_requests)
	  FROM am_action_delta
	 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	ON CONFLICT (day, person_key, team_id, cost_center_id, tool, tool_name, target, kind,
		     decision, project) DO UPDATE
	   SET calls = d.calls + excluded.calls,
	       lines_added = d.lines_added + excluded.lines_added,
	       lines_removed = d.lines_removed + excluded.lines_removed,
	       proposed_lines_added = d.proposed_lines_added + excluded.proposed_lines_added,
	       proposed_lines_removed = d.proposed_lines_removed + excluded.proposed_lines_removed,
	       commits = d.commits + excluded.commits,
	       pull_requests = d.pull_requests + excluded.pull_requests;
	DELETE FROM aimeter.actions_daily d USING am_action_delta x
	 WHERE x.sign < 0 AND d.day = (x.ts AT TIME ZONE 'UTC')::date AND d.calls = 0
	   AND d.person_key = coalesce(x.person_key, ''::bytea) AND d.team_id = x.team_id
	   AND d.tool = x.tool AND d.kind = x.kind AND d.decision = x.decision;

	INSERT INTO aimeter.action_edit_sessions
	SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date, team_id, tool, session
	  FROM am_action_delta
	 WHERE sign > 0 AND kind IN ('edit', 'write') AND decision = 'accepted'
	ON CONFLICT DO NOTHING;
	RETURN v_new + v_decided / 2;
END
$$;
REVOKE ALL ON FUNCTION aimeter.ingest_actions(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.ingest_actions(jsonb) TO aimeter_ingest, aimeter_admin;
