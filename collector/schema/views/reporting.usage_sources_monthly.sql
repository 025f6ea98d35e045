-- reporting.usage_sources_monthly: per month and team, how much usage came
-- from each source (docs/otlp.md, "One call, counted once"): `agent` (a
-- transcript record the agent read), `otel` (an OpenTelemetry export only)
-- or `both` (a transcript record an OTLP copy corroborated; counted once,
-- from the transcript). Reads usage_events, so it covers the months that
-- retention keeps. An OTLP copy is an event of a batch with neither device
-- nor batch id (how the receiver stages its calls).
CREATE OR REPLACE VIEW reporting.usage_sources_monthly AS
SELECT date_trunc('month', e.ts AT TIME ZONE 'UTC')::date AS month, t.name AS team,
       CASE WHEN r.agent_seen IS NOT NULL AND r.otel_seen IS NOT NULL THEN 'both'
	    WHEN r.counted IS NOT NULL THEN r.counted
	    WHEN b.device_id IS NULL AND b.batch_id IS NULL THEN 'otel'
	    ELSE 'agent' END AS source,
       count(*)::bigint AS events, sum(e.input_tokens)::bigint AS input_tokens,
       sum(e.output_tokens)::bigint AS output_tokens,
       sum(e.cache_write_5m_tokens + e.cache_write_1h_tokens)::bigint AS cache_write_tokens,
       sum(e.cache_read_tokens)::bigint AS cache_read_tokens, sum(e.cost) AS cost_usd
  FROM aimeter.usage_events e
  JOIN aimeter.teams t ON t.team_id = e.team_id
  LEFT JOIN aimeter.ingest_batches b ON b.batch_ref = e.batch_ref
  LEFT JOIN aimeter.usage_requests r ON r.event_id = e.event_id AND r.ts = e.ts
 GROUP BY 1, 2, 3;
GRANT SELECT ON reporting.usage_sources_monthly TO aimeter_reader;
