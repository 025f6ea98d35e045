-- aimeter.reprice(from, to, model): price the events of UTC days from..to
-- (model: a glob, NULL for all) again with the price book as it is now,
-- after rows were added (docs/pricing.md). An event whose cost or price row
-- changes is updated, and so are its usage_daily and usage_monthly rows by
-- the difference: in an open month in place; in a closed month the rollup
-- guards (aimeter.guard_daily_tg) book it as a correction in the next open
-- month, and the closed month's snapshot stays as it was. Unpriced events
-- that a row now covers become priced. A second run finds nothing to change.
CREATE OR REPLACE FUNCTION aimeter.reprice(p_from date, p_to date, p_model text)
RETURNS TABLE (events bigint, newly_priced bigint, delta_open numeric, delta_closed numeric)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_from timestamptz := p_from::timestamp AT TIME ZONE 'UTC';
	v_to timestamptz := (p_to + 1)::timestamp AT TIME ZONE 'UTC';
	v_like text := replace(replace(replace(replace(replace(p_model, '\', '\\'), '%', '\%'),
					   '_', '\_'), '*', '%'), '?', '_');
	r record;
BEGIN
	IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
		RAISE EXCEPTION 'reprice needs from <= to' USING ERRCODE = '22023';
	END IF;
	-- No ingest meanwhile, and the rollups exact first (the deferred fold):
	-- a difference applied to them then is the whole difference.
	LOCK TABLE aimeter.usage_events, aimeter.usage_daily, aimeter.usage_monthly,
		aimeter.usage_corrections IN SHARE ROW EXCLUSIVE MODE;
	PERFORM aimeter.fold_rollups();
	WITH cur AS (
		SELECT e.event_id, e.ts, e.cost AS old_cost, e.price_id AS old_price,
		       p.price_id AS new_price,
		       aimeter.price_cost(p.input_per_mtok, p.output_per_mtok,
			       p.cache_write_5m_per_mtok, p.cache_write_1h_per_mtok,
			       p.cache_read_per_mtok, p.long_context_threshold_tokens,
			       p.long_context_input_per_mtok, p.long_context_output_per_mtok,
			       p.web_search_per_1k, p.fast_multiplier, p.batch_multiplier,
			       p.flex_multiplier, p.priority_multiplier, e.input_tokens,
			       e.output_tokens, e.cache_write_5m_tokens, e.cache_write_1h_tokens,
			       e.cache_read_tokens, e.web_search_requests, e.speed,
			       e.service_tier) AS new_cost,
		       (e.ts AT TIME ZONE 'UTC')::date AS day, coalesce(e.person_key, '') AS person_key,
		       e.team_id, e.cost_center_id, e.tool, e.model, e.billing_mode
		  FROM aimeter.usage_events e
		  -- the write path's rule: longest pattern, then latest effective_from
		  LEFT JOIN LATERAL (
			SELECT pr.* FROM aimeter.prices pr
			 WHERE e.model LIKE pr.like_pattern AND pr.effective_from <= e.ts
			 ORDER BY length(pr.model_pattern) DESC, pr.effective_from DESC,
				  pr.price_id DESC
			 LIMIT 1) p ON true
		 WHERE e.ts >= v_from AND e.ts < v_to
		   AND (p_model IS NULL OR e.model LIKE v_like)
	), chg AS MATERIALIZED (
		SELECT c.*, coalesce(c.new_cost, 0) - coalesce(c.old_cost, 0) AS d_cost,
		       (c.new_price IS NULL)::int - (c.old_price IS NULL)::int AS d_unpriced
		  FROM cur c
		 WHERE c.new_cost IS DISTINCT FROM c.old_cost
		    OR c.new_price IS DISTINCT FROM c.old_price
	), ue AS (
		UPDATE aimeter.usage_events e SET cost = c.new_cost, price_id = c.new_price
		  FROM chg c WHERE e.event_id = c.event_id AND e.ts = c.ts
	), g AS MATERIALIZED (
		SELECT c.day, c.person_key, c.team_id, c.cost_center_id, c.tool, c.model,
		       c.billing_mode, sum(c.d_cost) AS d_cost, sum(c.d_unpriced) AS d_unpriced
		  FROM chg c GROUP BY 1, 2, 3, 4, 5, 6, 7
	), ud AS (
		-- a closed month's row: the guard books a correction instead
		UPDATE aimeter.usage_daily d SET cost = d.cost + g.d_cost,
			unpriced_events = d.unpriced_events + g.d_unpriced
		  FROM g
		 WHERE d.day = g.day AND d.person_key = g.person_key AND d.team_id = g.team_id
		   AND d.cost_center_id = g.cost_center_id AND d.tool = g.tool
		   AND d.model = g.model AND d.billing_mode = g.billing_mode
	), um AS (
		-- a closed month's row: the guard leaves it alone
		UPDATE aimeter.usage_monthly m SET cost = m.cost + gm.d_cost,
			unpriced_events = m.unpriced_events + gm.d_unpriced
		  FROM (SELECT date_trunc('month', g.day::timestamp)::date AS month, g.team_id,
			       g.cost_center_id, g.tool, g.model, g.billing_mode,
			       sum(g.d_cost) AS d_cost, sum(g.d_unpriced) AS d_unpriced
			  FROM g GROUP BY 1, 2, 3, 4, 5, 6) gm
		 WHERE m.month = gm.month AND m.team_id = gm.team_id
		   AND m.cost_center_id = gm.cost_center_id AND m.tool = gm.tool
		   AND m.model = gm.model AND m.billing_mode = gm.billing_mode
	)
	SELECT count(*) AS n,
	       count(*) FILTER (WHERE c.old_price IS NULL AND c.new_price IS NOT NULL) AS priced,
	       coalesce(sum(c.d_cost) FILTER (WHERE NOT aimeter.is_closed(c.day)), 0) AS d_open,
	       coalesce(sum(c.d_cost) FILTER (WHERE aimeter.is_closed(c.day)), 0) AS d_closed
	  INTO r FROM chg c;
	INSERT INTO aimeter.reprice_runs (day_from, day_to, model, events, newly_priced, delta_open,
					  delta_closed)
	VALUES (p_from, p_to, p_model, r.n, r.priced, r.d_open, r.d_closed);
	PERFORM aimeter.audit('reprice', to_char(p_from, 'YYYY-MM-DD') || '..' || to_char(p_to, 'YYYY-MM-DD'),
			      jsonb_build_object('model', p_model, 'events', r.n, 'newly_priced', r.priced,
						 'delta_open', r.d_open, 'delta_closed', r.d_closed));
	RETURN QUERY SELECT r.n, r.priced, r.d_open, r.d_closed;
END
$$;
REVOKE ALL ON FUNCTION aimeter.reprice(date,date,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.reprice(date,date,text) TO aimeter_admin;
