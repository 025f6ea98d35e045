CREATE OR REPLACE FUNCTION aimeter.usage_daily_activity_tg()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	-- am_daily_new is the transition table: a name the parser resolves
	-- before any relation of the session's temporary schema.
	IF NOT EXISTS (SELECT 1 FROM am_daily_new n WHERE n.person_key <> '') THEN
		RETURN NULL;
	END IF;
	WITH src AS (
		-- Each new row counts for its tool and for every tool ('*'):
		-- one pass and one de-duplication over the transition table.
		SELECT DISTINCT n.day, n.team_id, t.tool, n.person_key
		  FROM am_daily_new n CROSS JOIN LATERAL (VALUES (n.tool), ('*')) t (tool)
		 WHERE n.person_key <> ''
	), added AS (
		INSERT INTO aimeter.activity_daily AS a (day, team_id, tool, person_key)
		SELECT s.day, s.team_id, s.tool, s.person_key FROM src s ORDER BY 1, 2, 3, 4
		ON CONFLICT DO NOTHING
		RETURNING a.*
	), seen AS (
		INSERT INTO aimeter.activity_seen AS x
		SELECT w.person_key, w.tool, min(w.day), max(w.day) FROM added w
		 GROUP BY 1, 2 ORDER BY 1, 2
		ON CONFLICT (person_key, tool) DO UPDATE
			SET first_day = least(x.first_day, excluded.first_day),
			    last_day = greatest(x.last_day, excluded.last_day)
	), wk AS (
		INSERT INTO aimeter.activity_weekly AS w
		SELECT date_trunc('week', d.day)::date, d.team_id, d.tool, d.person_key, count(*)
		  FROM added d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (week, team_id, tool, person_key)
		DO UPDATE SET active_days = w.active_days + excluded.active_days
	)
	INSERT INTO aimeter.activity_monthly AS m
	SELECT date_trunc('month', d.day)::date, d.team_id, d.tool, d.person_key, count(*)
	  FROM added d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (month, team_id, tool, person_key)
	DO UPDATE SET active_days = m.active_days + excluded.active_days;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION aimeter.usage_daily_activity_tg() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.usage_daily_activity_tg() TO aimeter_admin;
