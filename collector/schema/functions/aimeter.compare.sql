CREATE OR REPLACE FUNCTION aimeter.compare(p_value numeric, p_op text, p_target numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_op WHEN '>=' THEN p_value >= p_target WHEN '>' THEN p_value > p_target
			 WHEN '<=' THEN p_value <= p_target WHEN '<' THEN p_value < p_target
			 WHEN '=' THEN p_value = p_target END
$$;
REVOKE ALL ON FUNCTION aimeter.compare(numeric,text,numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.compare(numeric,text,numeric) TO aimeter_admin;
