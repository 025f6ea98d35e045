-- "metric op value by YYYY-MM-DD" -> its parts; raises on anything else.
CREATE OR REPLACE FUNCTION aimeter.parse_criterion(p text, OUT metric text, OUT comparator text,
					OUT target numeric, OUT due date)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	m text[];
BEGIN
	m := regexp_match(p, '^\s*([a-z_]+)\s*(>=|<=|>|<|=)\s*([0-9]+(\.[0-9]+)?)\s+by\s+([0-9]{4}-[0-9]{2}-[0-9]{2})\s*$');
	IF m IS NULL THEN
		RAISE EXCEPTION 'criterion "%" is not "METRIC OP NUMBER by YYYY-MM-DD"', p
			USING ERRCODE = '22023';
	END IF;
	IF m[1] NOT IN ('active_people', 'active_share', 'events', 'cost', 'cost_per_active_person') THEN
		RAISE EXCEPTION 'unknown metric "%": active_people, active_share, events, cost or cost_per_active_person', m[1]
			USING ERRCODE = '22023';
	END IF;
	metric := m[1];
	comparator := m[2];
	target := m[3]::numeric;
	due := m[5]::date;
END
$$;
REVOKE ALL ON FUNCTION aimeter.parse_criterion(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.parse_criterion(text) TO aimeter_admin;
