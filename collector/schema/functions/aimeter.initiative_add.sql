CREATE OR REPLACE FUNCTION aimeter.initiative_add(p_name text, p_owner text, p_category text,
				       p_teams text[], p_tools text[], p_projects text[],
				       p_start date, p_target text, p_kill text)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_id int;
	v_bad text;
	c record;
BEGIN
	SELECT string_agg(x, ', ') INTO v_bad FROM unnest(p_teams) x
	 WHERE NOT EXISTS (SELECT 1 FROM aimeter.teams t WHERE t.name = x);
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown team(s): %', v_bad USING ERRCODE = '22023';
	END IF;
	SELECT string_agg(x, ', ') INTO v_bad FROM unnest(p_tools) x
	 WHERE NOT EXISTS (SELECT 1 FROM aimeter.tools t WHERE t.tool = x);
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown tool(s): %', v_bad USING ERRCODE = '22023';
	END IF;
	INSERT INTO aimeter.initiatives (name, owner, value_category, scope_teams, scope_tools,
					 scope_projects, start_date)
	VALUES (p_name, p_owner, p_category, coalesce(p_teams, '{}'), coalesce(p_tools, '{}'),
		coalesce(p_projects, '{}'), p_start)
	RETURNING initiative_id INTO v_id;
	c := aimeter.parse_criterion(p_target);
	IF c.due <= p_start THEN
		RAISE EXCEPTION 'the target date must be after the start' USING ERRCODE = '22023';
	END IF;
	INSERT INTO aimeter.initiative_criteria VALUES (v_id, 'target', c.metric, c.comparator,
							c.target, c.due);
	c := aimeter.parse_criterion(p_kill);
	IF c.due <= p_start THEN
		RAISE EXCEPTION 'the kill date must be after the start' USING ERRCODE = '22023';
	END IF;
	INSERT INTO aimeter.initiative_criteria VALUES (v_id, 'kill', c.metric, c.comparator,
							c.target, c.due);
	RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION aimeter.initiative_add(text,text,text,text[],text[],text[],date,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.initiative_add(text,text,text,text[],text[],text[],date,text,text) TO aimeter_admin;
