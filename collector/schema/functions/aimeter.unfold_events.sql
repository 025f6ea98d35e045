-- aimeter.unfold_events(event_ids, tss): deletes these stored usage events
-- and takes the folded ones out of usage_daily and usage_monthly, so the
-- rollups stay exact (a closed month's change becomes a correction row
-- through its guards). Events of batches not folded yet simply go: the fold
-- never sees them. Holds the fold's lock to commit, so no fold runs between
-- the check and the delete. Returns the events deleted. Not granted:
-- aimeter.ingest_requests() calls it for OTLP copies the transcript's
-- record replaces.
CREATE OR REPLACE FUNCTION aimeter.unfold_events(p_ids bytea[], p_ts timestamptz[])
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_n bigint;
	v_days date[];
	v_months date[];
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('aimeter.fold_rollups'));
	WITH del AS (
		DELETE FROM aimeter.usage_events e
		 USING unnest(p_ids, p_ts) AS k (event_id, ts)
		 WHERE e.event_id = k.event_id AND e.ts = k.ts
		RETURNING e.*
	), f AS MATERIALIZED (
		SELECT d.*, (d.ts AT TIME ZONE 'UTC')::date AS day,
		       date_trunc('month', d.ts AT TIME ZONE 'UTC')::date AS month
		  FROM del d JOIN aimeter.ingest_batches b ON b.batch_ref = d.batch_ref
		 WHERE b.folded
	), s AS MATERIALIZED (
		SELECT f.day, f.month, coalesce(f.person_key, '') AS k, f.team_id, f.cost_center_id,
		       f.tool, f.model, f.billing_mode, count(*) AS events,
		       sum(f.input_tokens) i, sum(f.output_tokens) o, sum(f.cache_write_5m_tokens) c5,
		       sum(f.cache_write_1h_tokens) c1, sum(f.cache_read_tokens) cr,
		       sum(f.reasoning_tokens) r, sum(f.web_search_requests) w,
		       coalesce(sum(f.cost), 0) AS cost,
		       count(*) FILTER (WHERE f.price_id IS NULL) AS unpriced
		  FROM f GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
	), ud AS (
		UPDATE aimeter.usage_daily d
		   SET events = d.events - s.events, input_tokens = d.input_tokens - s.i,
		       output_tokens = d.output_tokens - s.o,
		       cache_write_5m_tokens = d.cache_write_5m_tokens - s.c5,
		       cache_write_1h_tokens = d.cache_write_1h_tokens - s.c1,
		       cache_read_tokens = d.cache_read_tokens - s.cr,
		       reasoning_tokens = d.reasoning_tokens - s.r,
		       web_search_requests = d.web_search_requests - s.w, cost = d.cost - s.cost,
		       unpriced_events = d.unpriced_events - s.unpriced
		  FROM s
		 WHERE d.day = s.day AND d.person_key = s.k AND d.team_id = s.team_id
		   AND d.cost_center_id = s.cost_center_id AND d.tool = s.tool AND d.model = s.model
		   AND d.billing_mode = s.billing_mode
	), um AS (
		UPDATE aimeter.usage_monthly d
		   SET events = d.events - m.events, input_tokens = d.input_tokens - m.i,
		       output_tokens = d.output_tokens - m.o,
		       cache_write_5m_tokens = d.cache_write_5m_tokens - m.c5,
		       cache_write_1h_tokens = d.cache_write_1h_tokens - m.c1,
		       cache_read_tokens = d.cache_read_tokens - m.cr,
		       reasoning_tokens = d.reasoning_tokens - m.r,
		       web_search_requests = d.web_search_requests - m.w, cost = d.cost - m.cost,
		       unpriced_events = d.unpriced_events - m.unpriced
		  FROM (SELECT s.month, s.team_id, s.cost_center_id, s.tool, s.model, s.billing_mode,
			       sum(s.events) AS events, sum(s.i) i, sum(s.o) o, sum(s.c5) c5,
			       sum(s.c1) c1, sum(s.cr) cr, sum(s.r) r, sum(s.w) w, sum(s.cost) AS cost,
			       sum(s.unpriced) AS unpriced
			  FROM s GROUP BY 1, 2, 3, 4, 5, 6) m
		 WHERE d.month = m.month AND d.team_id = m.team_id
		   AND d.cost_center_id = m.cost_center_id AND d.tool = m.tool
		   AND d.model = m.model AND d.billing_mode = m.billing_mode
	)
	SELECT (SELECT count(*) FROM del), array_agg(DISTINCT s.day), array_agg(DISTINCT s.month)
	  INTO v_n, v_days, v_months FROM s;
	-- Rows nothing is left in (the month guards keep a closed month's).
	DELETE FROM aimeter.usage_daily WHERE events = 0 AND day = ANY (v_days);
	DELETE FROM aimeter.usage_monthly WHERE events = 0 AND month = ANY (v_months);
	RETURN v_n;
END
$$;
REVOKE ALL ON FUNCTION aimeter.unfold_events(bytea[], timestamptz[]) FROM PUBLIC;
