-- aimeter.fx_rate(from, to, day): units of `to` per one `from` on day: the
-- rate effective that day or the latest before it; a pair given only the
-- other way round is inverted (a direct row wins on the same day). 1 for
-- the same currency; NULL when no rate is known (callers flag it).
CREATE OR REPLACE FUNCTION aimeter.fx_rate(p_from text, p_to text, p_day date)
RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN p_from = p_to THEN 1::numeric ELSE (
		SELECT x.rate FROM (
			SELECT r.rate, r.effective_from, r.recorded_at, 0 AS inverted
			  FROM aimeter.fx_rates r
			 WHERE r.from_currency = p_from AND r.to_currency = p_to
			   AND r.effective_from <= p_day
			UNION ALL
			SELECT 1 / r.rate, r.effective_from, r.recorded_at, 1
			  FROM aimeter.fx_rates r
			 WHERE r.from_currency = p_to AND r.to_currency = p_from
			   AND r.effective_from <= p_day
		) x
		 ORDER BY x.effective_from DESC, x.inverted, x.recorded_at DESC
		 LIMIT 1) END
$$;
REVOKE ALL ON FUNCTION aimeter.fx_rate(text, text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.fx_rate(text, text, date) TO aimeter_reader, aimeter_admin;
