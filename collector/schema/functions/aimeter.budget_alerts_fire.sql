-- aimeter.budget_alerts_fire(): record thresholds newly crossed; returns them.
CREATE OR REPLACE FUNCTION aimeter.budget_alerts_fire()
RETURNS TABLE (month text, scope text, name text, threshold int, actual numeric, budget numeric)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH fired AS (
		INSERT INTO aimeter.budget_alerts (budget_id, threshold, actual)
		SELECT v.budget_id, th, v.actual
		  FROM reporting.budget_vs_actual v CROSS JOIN LATERAL unnest(v.thresholds_crossed) th
		ON CONFLICT DO NOTHING
		RETURNING budget_id, threshold, actual
	)
	SELECT v.month, v.scope, v.name, f.threshold, f.actual, v.budget
	  FROM fired f JOIN reporting.budget_vs_actual v ON v.budget_id = f.budget_id
	 ORDER BY 1, 2, 3, 4
$$;
REVOKE ALL ON FUNCTION aimeter.budget_alerts_fire() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.budget_alerts_fire() TO aimeter_admin;
