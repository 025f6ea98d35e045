-- aimeter.person_forget(identity_hmac): erasure (Art. 17). The identities go,
-- the person key becomes a random one everywhere (events, rollups, the
-- people row, which keeps memberships so team sizes stay), and events of
-- these identities dated before now are refused from then on. Team totals
-- do not change. Audited.
CREATE OR REPLACE FUNCTION aimeter.person_forget(p_hmac bytea)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k record;
	v_new bytea := uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());
	v_events bigint;
	v_rows bigint;
BEGIN
	-- Rollups exact first: the deferred fold (docs/write-path.md).
	PERFORM aimeter.fold_rollups();
	PERFORM set_config('aimeter.bypass_close', 'on', true);
	k := aimeter.person_keys(p_hmac);

	UPDATE aimeter.usage_events SET person_key = v_new WHERE person_key = ANY (k.keys);
	GET DIAGNOSTICS v_events = ROW_COUNT;

	WITH del AS (
		DELETE FROM aimeter.usage_daily WHERE person_key = ANY (k.keys) RETURNING *
	)
	INSERT INTO aimeter.usage_daily
	SELECT day, v_new, team_id, cost_center_id, tool, model, billing_mode, sum(events),
	       sum(input_tokens), sum(output_tokens), sum(cache_write_5m_tokens),
	       sum(cache_write_1h_tokens), sum(cache_read_tokens), sum(reasoning_tokens),
	       sum(web_search_requests), sum(cost), sum(unpriced_events)
	  FROM del GROUP BY day, team_id, cost_center_id, tool, model, billing_mode;
	GET DIAGNOSTICS v_rows = ROW_COUNT;
	PERFORM aimeter.person_forget_actions(k.keys, v_new); -- issue 14
	-- The insert above re-created the activity under the new key.
	DELETE FROM aimeter.activity_daily WHERE person_key = ANY (k.keys);
	DELETE FROM aimeter.activity_weekly WHERE person_key = ANY (k.keys);
	DELETE FROM aimeter.activity_monthly WHERE person_key = ANY (k.keys);
	DELETE FROM aimeter.activity_seen WHERE person_key = ANY (k.keys);

	INSERT INTO aimeter.erased_identities (identity_hmac, erased_at)
	SELECT x, now() FROM unnest(k.keys) x
	ON CONFLICT (identity_hmac) DO UPDATE SET erased_at = greatest(
		aimeter.erased_identities.erased_at, excluded.erased_at);
	DELETE FROM aimeter.identities WHERE person_id = k.person_id OR identity_hmac = ANY (k.keys);
	UPDATE aimeter.people SET person_key = v_new, label = 'erased-' || person_id
	 WHERE person_id = k.person_id;

	PERFORM aimeter.audit('person_forget', encode(p_hmac, 'hex'),
			      jsonb_build_object('events', v_events, 'rollup_rows', v_rows,
						 'person_found', k.person_id IS NOT NULL));
	RETURN jsonb_build_object('events', v_events, 'rollup_rows', v_rows,
				  'person_found', k.person_id IS NOT NULL);
END
$$;
REVOKE ALL ON FUNCTION aimeter.person_forget(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.person_forget(bytea) TO aimeter_admin;
