-- aimeter.ingest_rows(batches, events): partitions for the months that can
-- be accepted (the settings read once), then the plain form; a duplicate
-- rolls that back whole and the ON CONFLICT form runs instead. Then the
-- fold, in the same transaction (rollups exact at commit), unless the caller
-- deferred it with `SET LOCAL aimeter.defer_fold = on` and folds later
-- (docs/write-path.md, "The fold").
CREATE OR REPLACE FUNCTION aimeter.ingest_rows(p_batches aimeter.stage_batch_template[],
					       p_events aimeter.stage_event_template[])
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb,
	       new_identities int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
	v_lo timestamptz;
	v_hi timestamptz;
	v_latest timestamptz;
	v_earliest timestamptz;
	v_month date;
BEGIN
	SELECT now() + s.future_tolerance, now() - make_interval(months => s.backfill_horizon_months)
	  INTO v_latest, v_earliest FROM aimeter.settings s;
	SELECT min(s.ts), max(s.ts) INTO v_lo, v_hi
	  FROM unnest(p_events) s
	 WHERE s.ts <= v_latest AND s.ts >= v_earliest
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
	IF current_setting('aimeter.defer_fold', true) IS DISTINCT FROM 'on' THEN
		PERFORM aimeter.fold_rollups();
	END IF;
END
$$;
REVOKE ALL ON FUNCTION aimeter.ingest_rows(aimeter.stage_batch_template[],aimeter.stage_event_template[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.ingest_rows(aimeter.stage_batch_template[],aimeter.stage_event_template[]) TO aimeter_ingest, aimeter_admin;
