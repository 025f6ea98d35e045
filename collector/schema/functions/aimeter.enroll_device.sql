-- The one judge of enrollment: secret, then host, then cap.
CREATE OR REPLACE FUNCTION aimeter.enroll_device(p_secret_hash bytea, p_hostname text, p_os text,
						 p_agent_version text, p_token_hash bytea)
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_id uuid;
	v_team text;
	v_max integer;
	v_active bigint;
BEGIN
	-- FOR UPDATE: enrollments with one secret take turns, so two at once
	-- cannot both see the last free place under the cap.
	SELECT s.team_hint, s.max_devices INTO v_team, v_max FROM aimeter.enrollment_secrets s
	 WHERE s.secret_hash = p_secret_hash AND s.revoked_at IS NULL
	   AND (s.expires_at IS NULL OR s.expires_at > now())
	   FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown, expired or revoked enrollment secret' USING ERRCODE = '28000';
	END IF;
	-- After the secret: only holders of a good secret learn a host is blocked.
	IF EXISTS (SELECT 1 FROM aimeter.revoked_hosts h
		    WHERE h.host = lower(coalesce(p_hostname, '')) AND h.allowed_at IS NULL) THEN
		RAISE EXCEPTION 'the host of a revoked device may not enroll again'
			USING ERRCODE = 'AMREV',
			      HINT = 'an administrator can allow it: aimeterctl device allow-reenroll HOST';
	END IF;
	SELECT count(*) INTO v_active FROM aimeter.devices d
	 WHERE d.enrolled_with = p_secret_hash AND d.revoked_at IS NULL;
	IF v_active >= v_max THEN
		RAISE EXCEPTION 'enrollment secret has reached its cap of % active devices', v_max
			USING ERRCODE = 'AMCAP',
			      HINT = 'aimeterctl enroll-token set ID --max-devices N raises it';
	END IF;
	INSERT INTO aimeter.devices (token_hash, hostname, os, agent_version, enrolled_with, team_hint)
	VALUES (p_token_hash, p_hostname, p_os, p_agent_version, p_secret_hash, v_team)
	RETURNING device_id INTO v_id;
	RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION aimeter.enroll_device(bytea,text,text,text,bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.enroll_device(bytea,text,text,text,bytea) TO aimeter_ingest, aimeter_admin;
