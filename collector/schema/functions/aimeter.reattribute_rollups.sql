-- aimeter.reattribute_rollups(identity_hmac): the rollup half of
-- aimeter.reattribute(), which calls it: events stored under the identity's
-- own HMAC (unknown at the time) or under its person's key are resolved
-- again as of their time, and usage_daily and usage_monthly move with them;
-- with no membership that day an event keeps its current team. Returns how
-- many events changed. Not granted: reattribute() is the entry point.
CREATE OR REPLACE FUNCTION aimeter.reattribute_rollups(p_identity bytea)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_key bytea;
	v_n bigint;
BEGIN
	-- Rollups exact first: the deferred fold (docs/write-path.md).
	PERFORM aimeter.fold_rollups();
	SELECT p.person_key INTO v_key
	  FROM aimeter.identities i JOIN aimeter.people p ON p.person_id = i.person_id
	 WHERE i.identity_hmac = p_identity;

	CREATE TEMP TABLE am_moved ON COMMIT DROP AS
	SELECT e.event_id, e.ts, e.tool, e.model, e.billing_mode, e.person_key AS old_key,
	       e.team_id AS old_team, e.cost_center_id AS old_cc, a.person_key AS new_key,
	       a.team_id AS new_team, a.cost_center_id AS new_cc, e.input_tokens,
	       e.output_tokens, e.cache_write_5m_tokens, e.cache_write_1h_tokens,
	       e.cache_read_tokens, e.reasoning_tokens, e.web_search_requests, e.cost, e.price_id
	  FROM aimeter.usage_events e
	  JOIN aimeter.teams t ON t.team_id = e.team_id
	 CROSS JOIN LATERAL aimeter.attribute(p_identity, CASE WHEN e.team_id = 0 THEN ''
							      ELSE t.name END,
					      (e.ts AT TIME ZONE 'UTC')::date) a
	 WHERE e.person_key IN (p_identity, coalesce(v_key, p_identity))
	   -- Events of a batch committed unfolded since (the fold runs them
	   -- as they are then): moved here, they would leave rows they are not in.
	   AND NOT EXISTS (SELECT 1 FROM aimeter.ingest_batches b
			    WHERE b.batch_ref = e.batch_ref AND NOT b.folded)
	   AND (e.person_key, e.team_id, e.cost_center_id)
	       IS DISTINCT FROM (a.person_key, a.team_id, a.cost_center_id);
	GET DIAGNOSTICS v_n = ROW_COUNT;
	IF v_n = 0 THEN
		DROP TABLE am_moved;
		RETURN 0;
	END IF;

	UPDATE aimeter.usage_events e
	   SET person_key = m.new_key, team_id = m.new_team, cost_center_id = m.new_cc
	  FROM am_moved m
	 WHERE e.event_id = m.event_id AND e.ts = m.ts;

	-- Take the moved events out of their old rollup rows ...
	UPDATE aimeter.usage_daily d
	   SET events = d.events - s.events, input_tokens = d.input_tokens - s.i,
	       output_tokens = d.output_tokens - s.o,
	       cache_write_5m_tokens = d.cache_write_5m_tokens - s.c5,
	       cache_write_1h_tokens = d.cache_write_1h_tokens - s.c1,
	       cache_read_tokens = d.cache_read_tokens - s.cr,
	       reasoning_tokens = d.reasoning_tokens - s.r,
	       web_search_requests = d.web_search_requests - s.w, cost = d.cost - s.cost,
	       unpriced_events = d.unpriced_events - s.unpriced
	  FROM (SELECT (ts AT TIME ZONE 'UTC')::date AS day, coalesce(old_key, '') AS k, old_team,
		       old_cc, tool, model, billing_mode, count(*) AS events,
		       sum(input_tokens) i, sum(output_tokens) o, sum(cache_write_5m_tokens) c5,
		       sum(cache_write_1h_tokens) c1, sum(cache_read_tokens) cr,
		       sum(reasoning_tokens) r, sum(web_search_requests) w,
		       coalesce(sum(cost), 0) AS cost, count(*) FILTER (WHERE price_id IS NULL) unpriced
		  FROM am_moved GROUP BY 1, 2, 3, 4, 5, 6, 7) s
	 WHERE d.day = s.day AND d.person_key = s.k AND d.team_id = s.old_team
	   AND d.cost_center_id = s.old_cc AND d.tool = s.tool AND d.model = s.model
	   AND d.billing_mode = s.billing_mode;
	DELETE FROM aimeter.usage_daily WHERE events = 0;

	UPDATE aimeter.usage_monthly d
	   SET events = d.events - s.events, input_tokens = d.input_tokens - s.i,
	       output_tokens = d.output_tokens - s.o,
	       cache_write_5m_tokens = d.cache_write_5m_tokens - s.c5,
	       cache_write_1h_tokens = d.cache_write_1h_tokens - s.c1,
	       cache_read_tokens = d.cache_read_tokens - s.cr,
	       reasoning_tokens = d.reasoning_tokens - s.r,
	       web_search_requests = d.web_search_requests - s.w, cost = d.cost - s.cost,
	       unpriced_events = d.unpriced_events - s.unpriced
	  FROM (SELECT date_trunc('month', ts AT TIME ZONE 'UTC')::date AS month, old_team, old_cc,
		       tool, model, billing_mode, count(*) AS events,
		       sum(input_tokens) i, sum(output_tokens) o, sum(cache_write_5m_tokens) c5,
		       sum(cache_write_1h_tokens) c1, sum(cache_read_tokens) cr,
		       sum(reasoning_tokens) r, sum(web_search_requests) w,
		       coalesce(sum(cost), 0) AS cost, count(*) FILTER (WHERE price_id IS NULL) unpriced
		  FROM am_moved GROUP BY 1, 2, 3, 4, 5, 6) s
	 WHERE d.month = s.month AND d.team_id = s.old_team AND d.cost_center_id = s.old_cc
	   AND d.tool = s.tool AND d.model = s.model AND d.billing_mode = s.billing_mode;
	DELETE FROM aimeter.usage_monthly WHERE events = 0;

	-- ... and add them to their new ones.
	INSERT INTO aimeter.usage_daily AS d
	SELECT (ts AT TIME ZONE 'UTC')::date, coalesce(new_key, ''), new_team, new_cc, tool, model,
	       billing_mode, count(*), sum(input_tokens), sum(output_tokens),
	       sum(cache_write_5m_tokens), sum(cache_write_1h_tokens), sum(cache_read_tokens),
	       sum(reasoning_tokens), sum(web_search_requests), coalesce(sum(cost), 0),
	       count(*) FILTER (WHERE price_id IS NULL)
	  FROM am_moved GROUP BY 1, 2, 3, 4, 5, 6, 7
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
		unpriced_events = d.unpriced_events + excluded.unpriced_events;

	INSERT INTO aimeter.usage_monthly AS d
	SELECT date_trunc('month', ts AT TIME ZONE 'UTC')::date, new_team, new_cc, tool, model,
	       billing_mode, count(*), sum(input_tokens), sum(output_tokens),
	       sum(cache_write_5m_tokens), sum(cache_write_1h_tokens), sum(cache_read_tokens),
	       sum(reasoning_tokens), sum(web_search_requests), coalesce(sum(cost), 0),
	       count(*) FILTER (WHERE price_id IS NULL)
	  FROM am_moved GROUP BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (month, team_id, cost_center_id, tool, model, billing_mode)
	DO UPDATE SET events = d.events + excluded.events,
		input_tokens = d.input_tokens + excluded.input_tokens,
		output_tokens = d.output_tokens + excluded.output_tokens,
		cache_write_5m_tokens = d.cache_write_5m_tokens + excluded.cache_write_5m_tokens,
		cache_write_1h_tokens = d.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
		cache_read_tokens = d.cache_read_tokens + excluded.cache_read_tokens,
		reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
		web_search_requests = d.web_search_requests + excluded.web_search_requests,
		cost = d.cost + excluded.cost,
		unpriced_events = d.unpriced_events + excluded.unpriced_events;

	DROP TABLE am_moved;
	RETURN v_n;
END
$$;
REVOKE ALL ON FUNCTION aimeter.reattribute_rollups(bytea) FROM PUBLIC;
