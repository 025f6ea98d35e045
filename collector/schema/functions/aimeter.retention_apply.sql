-- aimeter.retention_apply(raw months, person months): drops raw event
-- partitions and folds per-person rollups and activity older than the
-- settings (or the arguments) into team rows; also drops the caps' counts
-- from before the backfill horizon. Audited; returns what it did.
CREATE OR REPLACE FUNCTION aimeter.retention_apply(p_raw_months int, p_person_months int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_raw int;
	v_person int;
	v_this date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
	v_raw_cut date;
	v_person_cut date;
	v_part record;
	v_dropped text[] := '{}';
	v_folded bigint;
	v_horizon timestamptz;
BEGIN
	-- Rollups exact first: the deferred fold (docs/write-path.md).
	PERFORM aimeter.fold_rollups();
	SELECT coalesce(p_raw_months, retention_raw_months),
	       coalesce(p_person_months, retention_person_months)
	  INTO v_raw, v_person FROM aimeter.settings;
	IF v_raw < 1 OR v_person < 1 THEN
		RAISE EXCEPTION 'retention is at least one month' USING ERRCODE = '22023';
	END IF;
	PERFORM set_config('aimeter.bypass_close', 'on', true);
	v_raw_cut := (v_this - make_interval(months => v_raw))::date;
	v_person_cut := (v_this - make_interval(months => v_person))::date;

	UPDATE aimeter.settings SET retention_raw_months = v_raw, retention_person_months = v_person,
	       backfill_horizon_months = least(backfill_horizon_months, v_raw);

	FOR v_part IN
		SELECT c.relname, to_date(substr(c.relname, 14), 'YYYYMM') AS month
		  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = 'aimeter.usage_events'::regclass
		   AND c.relname ~ '^usage_events_[0-9]{6}$'
		 ORDER BY 1
	LOOP
		IF (v_part.month + interval '1 month')::date <= v_raw_cut THEN
			EXECUTE format('DROP TABLE aimeter.%I', v_part.relname);
			v_dropped := v_dropped || v_part.relname::text;
		END IF;
	END LOOP;
	v_dropped := v_dropped || aimeter.retention_apply_actions(v_raw_cut, v_person_cut); -- issue 14

	WITH del AS (
		DELETE FROM aimeter.usage_daily WHERE day < v_person_cut AND person_key <> ''
		RETURNING *
	)
	INSERT INTO aimeter.usage_daily AS d
	SELECT day, ''::bytea, team_id, cost_center_id, tool, model, billing_mode, sum(events),
	       sum(input_tokens), sum(output_tokens), sum(cache_write_5m_tokens),
	       sum(cache_write_1h_tokens), sum(cache_read_tokens), sum(reasoning_tokens),
	       sum(web_search_requests), sum(cost), sum(unpriced_events)
	  FROM del GROUP BY day, team_id, cost_center_id, tool, model, billing_mode
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
	GET DIAGNOSTICS v_folded = ROW_COUNT;

	INSERT INTO aimeter.activity_team_archive AS a
	SELECT 'month', month, team_id, tool, count(*), sum(active_days)
	  FROM aimeter.activity_monthly WHERE month < v_person_cut GROUP BY 2, 3, 4
	ON CONFLICT (period_kind, period, team_id, tool) DO UPDATE
		SET active_people = a.active_people + excluded.active_people,
		    person_days = a.person_days + excluded.person_days;
	INSERT INTO aimeter.activity_team_archive AS a
	SELECT 'week', week, team_id, tool, count(*), sum(active_days)
	  FROM aimeter.activity_weekly WHERE week + 7 <= v_person_cut GROUP BY 2, 3, 4
	ON CONFLICT (period_kind, period, team_id, tool) DO UPDATE
		SET active_people = a.active_people + excluded.active_people,
		    person_days = a.person_days + excluded.person_days;
	DELETE FROM aimeter.activity_monthly WHERE month < v_person_cut;
	DELETE FROM aimeter.activity_weekly WHERE week + 7 <= v_person_cut;
	DELETE FROM aimeter.activity_daily WHERE day < v_person_cut;
	-- First and last seen survive only for people active since the cutoff,
	-- and no earlier than it.
	DELETE FROM aimeter.activity_seen WHERE last_day < v_person_cut;
	UPDATE aimeter.activity_seen SET first_day = v_person_cut WHERE first_day < v_person_cut;
	-- The caps' counts (0108) before the backfill horizon: events that old
	-- are refused, so nothing reads them again.
	SELECT now() - make_interval(months => backfill_horizon_months) INTO v_horizon
	  FROM aimeter.settings;
	DELETE FROM aimeter.device_minute_calls WHERE minute <= v_horizon - interval '1 minute';
	DELETE FROM aimeter.device_day_tokens WHERE day < (v_horizon AT TIME ZONE 'UTC')::date;

	PERFORM aimeter.audit('retention_apply', NULL,
			      jsonb_build_object('raw_months', v_raw, 'person_months', v_person,
						 'dropped', to_jsonb(v_dropped),
						 'folded_rollup_rows', v_folded));
	RETURN jsonb_build_object('raw_months', v_raw, 'person_months', v_person,
				  'raw_cutoff', v_raw_cut, 'person_cutoff', v_person_cut,
				  'dropped', to_jsonb(v_dropped), 'folded_rollup_rows', v_folded);
END
$$;
REVOKE ALL ON FUNCTION aimeter.retention_apply(integer,integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.retention_apply(integer,integer) TO aimeter_admin;
