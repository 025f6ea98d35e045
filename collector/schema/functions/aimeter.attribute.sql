-- aimeter.attribute(identity_hmac, team_hint, day): person key, team and
-- cost centre as of that day. Team: membership, then the team hint, then
-- unassigned (0). Cost centre: the membership's override, then the team's
-- mapping (or an ancestor's), then unassigned (0).
CREATE OR REPLACE FUNCTION aimeter.attribute(p_identity bytea, p_hint text, p_day date,
				  OUT person_key bytea, OUT team_id int, OUT cost_center_id int)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(pp.person_key, p_identity),
	       coalesce(mb.team_id, ht.team_id, 0),
	       coalesce(mb.cost_center_id,
			aimeter.team_cost_center(coalesce(mb.team_id, ht.team_id), p_day), 0)
	  FROM (SELECT 1) one
	  LEFT JOIN aimeter.identities i ON i.identity_hmac = p_identity
	  LEFT JOIN aimeter.people pp ON pp.person_id = i.person_id
	  LEFT JOIN aimeter.memberships mb
		 ON mb.person_id = i.person_id AND p_day >= mb.valid_from
		AND (mb.valid_to IS NULL OR p_day < mb.valid_to)
	  LEFT JOIN aimeter.teams ht ON ht.name = p_hint AND p_hint <> ''
$$;
REVOKE ALL ON FUNCTION aimeter.attribute(bytea,text,date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.attribute(bytea,text,date) TO aimeter_admin;
