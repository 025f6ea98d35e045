-- aimeter.ensure_partition(month): the month's partition of usage_events,
-- made on demand; survives concurrent writers meeting a month's first events
-- together.
--
-- The advisory lock serialises the creators, but to_regclass() reads the
-- catalog cache, and taking an advisory lock does not process the
-- invalidation that the first creator's commit sent: the second one still
-- saw no partition and failed with 42P07 at every month change. After the
-- lock, ask pg_class through a query (a fresh snapshot in READ COMMITTED),
-- and treat "already exists" as success in any isolation level.
CREATE OR REPLACE FUNCTION aimeter.ensure_partition(p_month date)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_month date := date_trunc('month', p_month)::date;
	v_name text := 'usage_events_' || to_char(v_month, 'YYYYMM');
BEGIN
	IF to_regclass('aimeter.' || v_name) IS NOT NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('aimeter.ensure_partition'));
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_class c
		   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		   WHERE n.nspname = 'aimeter' AND c.relname = v_name) THEN
		RETURN;
	END IF;
	BEGIN
		EXECUTE format('CREATE TABLE aimeter.%I PARTITION OF aimeter.usage_events '
			       'FOR VALUES FROM (%L) TO (%L)', v_name,
			       to_char(v_month, 'YYYY-MM-DD') || ' 00:00:00+00',
			       to_char(v_month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
	EXCEPTION WHEN duplicate_table THEN
		NULL; -- created by a writer whose commit this snapshot predates
	END;
END
$$;
REVOKE ALL ON FUNCTION aimeter.ensure_partition(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.ensure_partition(date) TO aimeter_admin;
