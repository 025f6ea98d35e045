-- aimeter.ingest_otlp_points(points): count OTLP metric data points
-- (docs/otlp.md) into aimeter.otlp_counters_daily exactly once, keeping each
-- series' state in aimeter.otlp_series. points: a JSON array the collector
-- built (collector/otlp/): s series hash (hex), m metric, k kind, u identity
-- HMAC (hex, "" for none), t team hint, tool, c cumulative, st start and ts
-- time (unix ns, as text), v value. In array order, per series:
--   delta: a point not after the last one counted is a retry: nothing;
--          otherwise its value counts.
--   cumulative: a new start_time (a restarted sender) counts its whole value;
--          the same start counts the growth since the last point, a value
--          below the last one (a reset without a new start) counts whole;
--          a point not after the last one counted is a retry: nothing.
-- Returns the number of points that counted something.
CREATE OR REPLACE FUNCTION aimeter.ingest_otlp_points(p_points jsonb)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning AS $$
DECLARE
	p record;
	s aimeter.otlp_series%ROWTYPE;
	v_inc numeric;
	v_counted int := 0;
BEGIN
	FOR p IN SELECT decode(j.s, 'hex') AS series, j.m, j.k, decode(j.u, 'hex') AS u, j.t,
			j.tool, j.c, j.st::numeric AS st, j.ts::numeric AS ts, j.v
		   FROM jsonb_to_recordset(coalesce(p_points, '[]'::jsonb))
			AS j(s text, m text, k text, u text, t text, tool text, c boolean, st text,
			     ts text, v numeric)
	LOOP
		CONTINUE WHEN p.v IS NULL OR p.v < 0 OR length(p.series) <> 32;
		SELECT * INTO s FROM aimeter.otlp_series WHERE series = p.series FOR UPDATE;
		IF NOT FOUND THEN
			v_inc := p.v;
			INSERT INTO aimeter.otlp_series VALUES (p.series, p.m, p.st, p.ts,
				CASE WHEN p.c THEN p.v ELSE 0 END);
		ELSIF p.ts <= s.last_ns THEN
			CONTINUE; -- a retried or reordered export: counted already
		ELSE
			IF NOT p.c THEN
				v_inc := p.v;
			ELSIF p.st <> s.start_ns OR p.v < s.last_value THEN
				v_inc := p.v; -- a new run of the counter
			ELSE
				v_inc := p.v - s.last_value;
			END IF;
			UPDATE aimeter.otlp_series SET start_ns = p.st, last_ns = p.ts,
			       last_value = CASE WHEN p.c THEN p.v ELSE 0 END
			 WHERE series = p.series;
		END IF;
		CONTINUE WHEN v_inc = 0;
		INSERT INTO aimeter.otlp_counters_daily AS d
		VALUES ((to_timestamp((p.ts / 1e9)::double precision) AT TIME ZONE 'UTC')::date,
			coalesce(p.u, ''::bytea),
			coalesce((SELECT t.team_id FROM aimeter.teams t WHERE t.name = p.t), 0),
			p.tool, p.m, coalesce(p.k, ''), v_inc)
		ON CONFLICT (day, person_key, team_id, tool, metric, kind)
		DO UPDATE SET value = d.value + excluded.value;
		v_counted := v_counted + 1;
	END LOOP;
	RETURN v_counted;
END
$$;
REVOKE ALL ON FUNCTION aimeter.ingest_otlp_points(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.ingest_otlp_points(jsonb) TO aimeter_ingest, aimeter_admin;
