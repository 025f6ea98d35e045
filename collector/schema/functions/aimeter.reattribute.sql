CREATE OR REPLACE FUNCTION aimeter.reattribute(p_identity bytea)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_keys bytea[];
	v_n bigint;
BEGIN
	-- The keys 0002 moves events from and to: the identity's own HMAC and
	-- its person's key.
	SELECT array_agg(DISTINCT k) INTO v_keys
	  FROM (SELECT p_identity AS k
		UNION ALL
		SELECT p.person_key FROM aimeter.identities i
		  JOIN aimeter.people p ON p.person_id = i.person_id
		 WHERE i.identity_hmac = p_identity) x
	 WHERE k IS NOT NULL;

	v_n := aimeter.reattribute_rollups(p_identity);
	IF v_n = 0 THEN
		RETURN 0;
	END IF;

	CREATE TEMP TABLE am_act_diff ON COMMIT DROP AS
	WITH want AS (
		SELECT DISTINCT d.day, d.team_id, d.tool, d.person_key FROM aimeter.usage_daily d
		 WHERE d.person_key = ANY (v_keys) AND d.person_key <> ''
		UNION
		SELECT DISTINCT d.day, d.team_id, '*', d.person_key FROM aimeter.usage_daily d
		 WHERE d.person_key = ANY (v_keys) AND d.person_key <> ''
	), have AS (
		SELECT a.day, a.team_id, a.tool, a.person_key FROM aimeter.activity_daily a
		 WHERE a.person_key = ANY (v_keys)
	)
	SELECT x.*, 1 AS sign FROM (SELECT * FROM want EXCEPT SELECT * FROM have) x
	UNION ALL
	SELECT y.*, -1 FROM (SELECT * FROM have EXCEPT SELECT * FROM want) y;

	DELETE FROM aimeter.activity_daily a USING am_act_diff x
	 WHERE x.sign = -1 AND a.day = x.day AND a.team_id = x.team_id AND a.tool = x.tool
	   AND a.person_key = x.person_key;
	INSERT INTO aimeter.activity_daily (day, team_id, tool, person_key)
	SELECT x.day, x.team_id, x.tool, x.person_key FROM am_act_diff x WHERE x.sign = 1
	 ORDER BY 1, 2, 3, 4;

	INSERT INTO aimeter.activity_weekly AS w
	SELECT date_trunc('week', x.day)::date, x.team_id, x.tool, x.person_key, sum(x.sign)
	  FROM am_act_diff x GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (week, team_id, tool, person_key)
	DO UPDATE SET active_days = w.active_days + excluded.active_days;
	DELETE FROM aimeter.activity_weekly WHERE person_key = ANY (v_keys) AND active_days <= 0;

	INSERT INTO aimeter.activity_monthly AS m
	SELECT date_trunc('month', x.day)::date, x.team_id, x.tool, x.person_key, sum(x.sign)
	  FROM am_act_diff x GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (month, team_id, tool, person_key)
	DO UPDATE SET active_days = m.active_days + excluded.active_days;
	DELETE FROM aimeter.activity_monthly WHERE person_key = ANY (v_keys) AND active_days <= 0;

	-- First and last seen of the (person, tool) pairs that changed: the
	-- active days that remain, and the old bounds unless their day is gone
	-- (a day with no activity left in any team).
	WITH pairs AS (
		SELECT DISTINCT x.person_key, x.tool FROM am_act_diff x
	), gone AS (
		SELECT DISTINCT x.person_key, x.tool, x.day FROM am_act_diff x
		 WHERE x.sign = -1 AND NOT EXISTS (
			SELECT 1 FROM aimeter.activity_daily a
			 WHERE a.person_key = x.person_key AND a.tool = x.tool AND a.day = x.day)
	), b AS (
		SELECT p.person_key, p.tool,
		       least((SELECT min(a.day) FROM aimeter.activity_daily a
			       WHERE a.person_key = p.person_key AND a.tool = p.tool),
			     CASE WHEN NOT EXISTS (SELECT 1 FROM gone g WHERE g.person_key = p.person_key
						   AND g.tool = p.tool AND g.day = s.first_day)
				  THEN s.first_day END) AS first_day,
		       greatest((SELECT max(a.day) FROM aimeter.activity_daily a
				  WHERE a.person_key = p.person_key AND a.tool = p.tool),
				CASE WHEN NOT EXISTS (SELECT 1 FROM gone g WHERE g.person_key = p.person_key
						      AND g.tool = p.tool AND g.day = s.last_day)
				     THEN s.last_day END) AS last_day
		  FROM pairs p
		  LEFT JOIN aimeter.activity_seen s ON s.person_key = p.person_key AND s.tool = p.tool
	), del AS (
		DELETE FROM aimeter.activity_seen s USING b
		 WHERE s.person_key = b.person_key AND s.tool = b.tool
		   AND (b.first_day IS NULL OR b.last_day IS NULL)
	)
	INSERT INTO aimeter.activity_seen AS s (person_key, tool, first_day, last_day)
	SELECT b.person_key, b.tool, b.first_day, b.last_day FROM b
	 WHERE b.first_day IS NOT NULL AND b.last_day IS NOT NULL
	 ORDER BY 1, 2
	ON CONFLICT (person_key, tool) DO UPDATE
		SET first_day = excluded.first_day, last_day = excluded.last_day;

	DROP TABLE am_act_diff;
	RETURN v_n;
END
$$;
REVOKE ALL ON FUNCTION aimeter.reattribute(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.reattribute(bytea) TO aimeter_admin;
