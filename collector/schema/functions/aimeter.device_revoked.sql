-- Runs as the revoker (an administrator); touches only aimeter's own table.
CREATE OR REPLACE FUNCTION aimeter.device_revoked()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO aimeter.revoked_hosts AS h (host, device_id, revoked_at)
	VALUES (lower(coalesce(NEW.hostname, '')), NEW.device_id, NEW.revoked_at)
	ON CONFLICT (host) DO UPDATE
	   SET device_id = EXCLUDED.device_id, revoked_at = EXCLUDED.revoked_at,
	       allowed_at = NULL, allowed_by = NULL;
	PERFORM pg_notify('aimeter_device_revoked', NEW.device_id::text);
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION aimeter.device_revoked() FROM PUBLIC;
