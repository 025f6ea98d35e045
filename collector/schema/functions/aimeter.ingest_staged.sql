-- aimeter.ingest_staged(): what the collector and aimeterctl call after
-- their COPYs. SECURITY INVOKER: the caller's temp tables are read with the
-- caller's rights, whatever they are; only their values reach the definer.
-- Request ids staged in am_stage_request (where the caller made that table)
-- go to aimeter.ingest_requests(), which counts each call once; without
-- them it is aimeter.ingest_rows() as ever.
CREATE OR REPLACE FUNCTION aimeter.ingest_staged()
RETURNS TABLE (batch_idx int, inserted int, duplicates int, rejected int, rejections jsonb,
	       new_identities int)
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_batches aimeter.stage_batch_template[];
	v_events aimeter.stage_event_template[];
	v_requests aimeter.stage_request_template[];
BEGIN
	v_batches := ARRAY(SELECT ROW(b.batch_idx, b.device_id, b.batch_id, b.events_sent,
				      b.spool_dropped)::aimeter.stage_batch_template
			     FROM pg_temp.am_stage_batch b);
	v_events := ARRAY(SELECT ROW(s.batch_idx, s.ord, s.event_id, s.ts, s.tool, s.model, s.session,
				     s.project, s.identity_hmac, s.team_hint, s.billing_mode,
				     s.input_tokens, s.output_tokens, s.cache_write_5m_tokens,
				     s.cache_write_1h_tokens, s.cache_read_tokens, s.reasoning_tokens,
				     s.web_search_requests, s.speed, s.service_tier,
				     s.reject_reason)::aimeter.stage_event_template
			    FROM pg_temp.am_stage s);
	IF to_regclass('pg_temp.am_stage_request') IS NOT NULL THEN
		v_requests := ARRAY(SELECT ROW(r.batch_idx, r.ord,
					       r.request_id)::aimeter.stage_request_template
				      FROM pg_temp.am_stage_request r);
	END IF;
	IF cardinality(v_requests) > 0 THEN
		RETURN QUERY SELECT * FROM aimeter.ingest_requests(v_batches, v_events, v_requests);
	ELSE
		RETURN QUERY SELECT * FROM aimeter.ingest_rows(v_batches, v_events);
	END IF;
END
$$;
REVOKE ALL ON FUNCTION aimeter.ingest_staged() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.ingest_staged() TO aimeter_ingest, aimeter_admin;
