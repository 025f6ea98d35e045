-- aimeter.person_export(identity_hmac): everything stored about the person
-- (Art. 15), as JSON; audited.
CREATE OR REPLACE FUNCTION aimeter.person_export(p_hmac bytea)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k record;
	v jsonb;
BEGIN
	-- Rollups exact first: the deferred fold (docs/write-path.md).
	PERFORM aimeter.fold_rollups();
	k := aimeter.person_keys(p_hmac);
	SELECT jsonb_build_object(
		'generated_at', now(),
		'purpose', (SELECT processing_purpose FROM aimeter.settings),
		'identity_hmac', encode(p_hmac, 'hex'),
		'person', (SELECT jsonb_build_object('person_key', encode(p.person_key, 'hex'),
						     'label', p.label, 'created_at', p.created_at)
			     FROM aimeter.people p WHERE p.person_id = k.person_id),
		'identities', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'identity', x.identity, 'identity_hmac', encode(x.identity_hmac, 'hex'))
				ORDER BY x.identity)
			FROM aimeter.identities x WHERE x.person_id = k.person_id), '[]'),
		'memberships', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'team', t.name, 'cost_center', c.code, 'valid_from', m.valid_from,
				'valid_to', m.valid_to) ORDER BY m.valid_from)
			FROM aimeter.memberships m JOIN aimeter.teams t ON t.team_id = m.team_id
			LEFT JOIN aimeter.cost_centers c ON c.cost_center_id = m.cost_center_id
			WHERE m.person_id = k.person_id), '[]'),
		'seat_assignments', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'subscription', s.name, 'vendor', s.vendor, 'plan', s.plan,
				'valid_from', a.valid_from, 'valid_to', a.valid_to) ORDER BY a.valid_from)
			FROM aimeter.seat_assignments a
			JOIN aimeter.subscriptions s ON s.subscription_id = a.subscription_id
			WHERE a.person_id = k.person_id), '[]'),
		'usage_events', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'event_id', encode(e.event_id, 'hex'), 'ts', e.ts, 'tool', e.tool,
				'model', e.model, 'session', e.session, 'project', e.project,
				'team', t.name, 'billing_mode', e.billing_mode,
				'input_tokens', e.input_tokens, 'output_tokens', e.output_tokens,
				'cache_write_5m_tokens', e.cache_write_5m_tokens,
				'cache_write_1h_tokens', e.cache_write_1h_tokens,
				'cache_read_tokens', e.cache_read_tokens,
				'reasoning_tokens', e.reasoning_tokens,
				'web_search_requests', e.web_search_requests, 'cost', e.cost)
				ORDER BY e.ts, e.event_id)
			FROM aimeter.usage_events e JOIN aimeter.teams t ON t.team_id = e.team_id
			WHERE e.person_key = ANY (k.keys)), '[]'),
		'usage_daily', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'day', d.day, 'team', t.name, 'tool', d.tool, 'model', d.model,
				'billing_mode', d.billing_mode, 'events', d.events, 'cost', d.cost)
				ORDER BY d.day, d.tool, d.model)
			FROM aimeter.usage_daily d JOIN aimeter.teams t ON t.team_id = d.team_id
			WHERE d.person_key = ANY (k.keys)), '[]'),
		'first_last_seen', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'tool', s.tool, 'first_seen', s.first_day, 'last_seen', s.last_day)
				ORDER BY s.tool)
			FROM aimeter.activity_seen s
			WHERE s.person_key = ANY (k.keys) AND s.tool <> '*'), '[]'),
		'activity_days', coalesce((SELECT jsonb_agg(jsonb_build_object(
				'day', a.day, 'team', t.name, 'tool', a.tool) ORDER BY a.day, a.tool)
			FROM aimeter.activity_daily a JOIN aimeter.teams t ON t.team_id = a.team_id
			WHERE a.person_key = ANY (k.keys) AND a.tool <> '*'), '[]'),
		'erased', EXISTS (SELECT 1 FROM aimeter.erased_identities x
				   WHERE x.identity_hmac = p_hmac))
	  INTO v;
	PERFORM aimeter.audit('person_export', encode(p_hmac, 'hex'),
			      jsonb_build_object('events', jsonb_array_length(v->'usage_events')));
	RETURN v;
END
$$;
REVOKE ALL ON FUNCTION aimeter.person_export(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.person_export(bytea) TO aimeter_admin;
