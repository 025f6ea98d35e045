-- aimeter.price_cost(...): the list-price cost of one request, unrounded.
-- Long context: when input + cache writes + cache reads exceed the
-- threshold, every bucket is priced at the long-context rates; cache rates
-- scale by the same factor as input. Fast speed multiplies the token cost;
-- else the service tier does (batch, flex, priority; any other tier, such
-- as standard, default, auto or scale, is the standard rate). Fast mode is
-- itself a premium tier (Codex's "fast" is the priority tier), so the two
-- never stack. Web search is a per-request fee and is multiplied by neither.
CREATE OR REPLACE FUNCTION aimeter.price_cost(r_in numeric, r_out numeric, r_cw5 numeric, r_cw1h numeric,
				   r_cr numeric, lc_threshold bigint, lc_in numeric,
				   lc_out numeric, r_ws numeric, fast_mult numeric,
				   batch_mult numeric, flex_mult numeric, priority_mult numeric,
				   n_in bigint, n_out bigint, n_cw5 bigint, n_cw1h bigint, n_cr bigint,
				   n_ws bigint, p_speed text, p_tier text)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT (CASE WHEN p_speed = 'fast' THEN fast_mult
		     WHEN p_tier = 'batch' THEN coalesce(batch_mult, 1)
		     WHEN p_tier = 'flex' THEN coalesce(flex_mult, 1)
		     WHEN p_tier = 'priority' THEN coalesce(priority_mult, 1)
		     ELSE 1 END)
	     * (CASE WHEN lc_threshold IS NOT NULL AND lc_in IS NOT NULL
			  AND n_in + n_cw5 + n_cw1h + n_cr > lc_threshold
		     THEN n_in * lc_in + n_out * coalesce(lc_out, r_out)
			+ CASE WHEN r_in = 0 THEN 0
			       ELSE (n_cw5 * coalesce(r_cw5, r_in) + n_cw1h * coalesce(r_cw1h, r_in)
				     + n_cr * coalesce(r_cr, r_in)) * lc_in / r_in END
		     ELSE n_in * r_in + n_out * r_out + n_cw5 * coalesce(r_cw5, r_in)
			+ n_cw1h * coalesce(r_cw1h, r_in) + n_cr * coalesce(r_cr, r_in)
		END) / 1000000
	     + coalesce(n_ws * r_ws / 1000, 0)
$$;
REVOKE ALL ON FUNCTION aimeter.price_cost(numeric,numeric,numeric,numeric,numeric,bigint,numeric,numeric,numeric,numeric,numeric,numeric,numeric,bigint,bigint,bigint,bigint,bigint,bigint,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.price_cost(numeric,numeric,numeric,numeric,numeric,bigint,numeric,numeric,numeric,numeric,numeric,numeric,numeric,bigint,bigint,bigint,bigint,bigint,bigint,text,text) TO aimeter_admin;
