-- aimeter.allow_reenroll(device_or_host): lift the block of the host of a
-- revoked device (given by device id or hostname); returns the hosts allowed.
CREATE OR REPLACE FUNCTION aimeter.allow_reenroll(p_device_or_host text)
RETURNS SETOF text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN QUERY
	UPDATE aimeter.revoked_hosts h SET allowed_at = now(), allowed_by = session_user
	 WHERE h.allowed_at IS NULL
	   AND (h.host = lower(p_device_or_host) OR h.device_id::text = lower(p_device_or_host)
		OR h.host IN (SELECT lower(d.hostname) FROM aimeter.devices d
			       WHERE d.device_id::text = lower(p_device_or_host)))
	RETURNING h.host;
END
$$;
REVOKE ALL ON FUNCTION aimeter.allow_reenroll(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.allow_reenroll(text) TO aimeter_admin;
