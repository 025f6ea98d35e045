-- 0102_finance.sql (issue 7): seats and their amortisation, the cost
-- ledger (usage, corrections, seats), month close snapshots, budgets, cost
-- per active person, the FOCUS export view. See docs/reports-finance.md.

-- ---------------------------------------------------------------------------
-- Seats. price_per_seat is the price of one seat for the whole term
-- [term_start, term_end); it is expensed straight-line per day over the term.
CREATE TABLE aimeter.subscriptions (
	subscription_id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL UNIQUE CHECK (name <> ''),
	vendor text NOT NULL CHECK (vendor <> ''),
	plan text NOT NULL CHECK (plan <> ''),
	tool text REFERENCES aimeter.tools, -- whose activity counts as use; NULL: any
	seats int NOT NULL CHECK (seats >= 0),
	price_per_seat numeric NOT NULL CHECK (price_per_seat >= 0),
	currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
	term_start date NOT NULL,
	term_end date NOT NULL CHECK (term_end > term_start),
	cost_center_id int NOT NULL DEFAULT 0 REFERENCES aimeter.cost_centers, -- unassigned pool
	invoice_ref text,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE aimeter.seat_assignments (
	assignment_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	subscription_id int NOT NULL REFERENCES aimeter.subscriptions ON DELETE CASCADE,
	person_id bigint NOT NULL REFERENCES aimeter.people ON DELETE CASCADE,
	valid_from date NOT NULL,
	valid_to date,
	CHECK (valid_to IS NULL OR valid_to > valid_from),
	EXCLUDE USING gist (subscription_id WITH =, person_id WITH =,
			    daterange(valid_from, valid_to) WITH &&)
);

-- aimeter.seat_cost(subscription or NULL, from, to): seat cost in [from, to).
-- Assigned seat-days go to the assignee's team and cost centre (membership
-- override, else the team's mapping at the segment's start); assigned days
-- without a membership go to team 0 and the subscription's cost centre; the
-- rest of the purchased seat-days (the unassigned pool) has team NULL and
-- the subscription's cost centre. amount = seat_days * price / term days.
CREATE FUNCTION aimeter.seat_cost(p_sub int, p_from date, p_to date)
RETURNS TABLE (subscription_id int, team_id int, cost_center_id int, seat_days numeric,
	       amount numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH s AS (
		SELECT x.subscription_id, x.seats, x.price_per_seat, x.cost_center_id,
		       greatest(x.term_start, p_from) AS f, least(x.term_end, p_to) AS t,
		       (x.term_end - x.term_start) AS term_days
		  FROM aimeter.subscriptions x
		 WHERE (p_sub IS NULL OR x.subscription_id = p_sub)
		   AND x.term_start < p_to AND x.term_end > p_from
	), asg AS (
		SELECT s.subscription_id, a.assignment_id, a.person_id,
		       greatest(a.valid_from, s.f) AS f,
		       least(coalesce(a.valid_to, 'infinity'::date), s.t) AS t
		  FROM s JOIN aimeter.seat_assignments a ON a.subscription_id = s.subscription_id
		 WHERE a.valid_from < s.t AND coalesce(a.valid_to, 'infinity'::date) > s.f
	), seg AS (
		SELECT asg.subscription_id, asg.assignment_id, m.team_id,
		       coalesce(m.cost_center_id,
				aimeter.team_cost_center(m.team_id, greatest(asg.f, m.valid_from)),
				0) AS cc,
		       least(asg.t, coalesce(m.valid_to, 'infinity'::date))
			 - greatest(asg.f, m.valid_from) AS days
		  FROM asg JOIN aimeter.memberships m ON m.person_id = asg.person_id
		 WHERE m.valid_from < asg.t AND coalesce(m.valid_to, 'infinity'::date) > asg.f
	), lines AS (
		SELECT seg.subscription_id, seg.team_id, seg.cc, seg.days::numeric AS days FROM seg
		UNION ALL
		SELECT asg.subscription_id, 0, s.cost_center_id,
		       ((asg.t - asg.f) - coalesce((SELECT sum(seg.days) FROM seg
						    WHERE seg.assignment_id = asg.assignment_id), 0))::numeric
		  FROM asg JOIN s ON s.subscription_id = asg.subscription_id
		UNION ALL
		SELECT s.subscription_id, NULL, s.cost_center_id,
		       greatest(s.seats::numeric * (s.t - s.f)
				- coalesce((SELECT sum(asg.t - asg.f) FROM asg
					     WHERE asg.subscription_id = s.subscription_id), 0), 0)
		  FROM s
	)
	SELECT l.subscription_id, l.team_id, l.cc, sum(l.days),
	       sum(l.days) * s.price_per_seat / s.term_days
	  FROM lines l JOIN s ON s.subscription_id = l.subscription_id
	 WHERE l.days > 0
	 GROUP BY l.subscription_id, l.team_id, l.cc, s.price_per_seat, s.term_days
$$;

-- ---------------------------------------------------------------------------
-- The cost ledger, live: one line per (accounting month, source, team,
-- cost centre, tool, model, billing mode | subscription). Sources:
--   usage              usage_monthly of the month (service = accounting month)
--   correction         late usage for a closed month, service day given
--   seat_amortization  seat cost expensed in the month (EffectiveCost)
--   seat_purchase      the purchase at the term's start (BilledCost)
-- Subscription usage is an API-equivalent value: list_cost only, never
-- billed or effective (seats are what it costs).
CREATE VIEW aimeter.ledger_live AS
SELECT u.month AS accounting_month, 'usage'::text AS source, 'Usage'::text AS charge_category,
       NULL::text AS charge_class, u.month AS service_start,
       (u.month + interval '1 month')::date AS service_end, u.team_id, u.cost_center_id,
       u.tool, u.model, u.billing_mode, NULL::int AS subscription_id, u.events,
       u.input_tokens, u.output_tokens, u.cache_write_5m_tokens, u.cache_write_1h_tokens,
       u.cache_read_tokens, u.reasoning_tokens, u.web_search_requests,
       0::numeric AS seat_days, u.cost AS list_cost,
       CASE WHEN u.billing_mode = 'subscription' THEN 0 ELSE u.cost END AS billed_cost,
       CASE WHEN u.billing_mode = 'subscription' THEN 0 ELSE u.cost END AS effective_cost,
       u.unpriced_events, 'USD'::text AS currency
  FROM aimeter.usage_monthly u
UNION ALL
SELECT c.accounting_month, 'correction', 'Usage', 'Correction', c.service_day,
       c.service_day + 1, c.team_id, c.cost_center_id, c.tool, c.model, c.billing_mode, NULL,
       c.events, c.input_tokens, c.output_tokens, c.cache_write_5m_tokens,
       c.cache_write_1h_tokens, c.cache_read_tokens, c.reasoning_tokens,
       c.web_search_requests, 0, c.cost,
       CASE WHEN c.billing_mode = 'subscription' THEN 0 ELSE c.cost END,
       CASE WHEN c.billing_mode = 'subscription' THEN 0 ELSE c.cost END,
       c.unpriced_events, 'USD'
  FROM aimeter.usage_corrections c
 WHERE c.events <> 0 OR c.cost <> 0
UNION ALL
SELECT m.month::date, 'seat_amortization', 'Usage', NULL, greatest(x.term_start, m.month::date),
       least(x.term_end, (m.month + interval '1 month')::date), sc.team_id, sc.cost_center_id,
       coalesce(x.tool, ''), '', '', x.subscription_id, 0, 0, 0, 0, 0, 0, 0, 0, sc.seat_days,
       0, 0, sc.amount, 0, x.currency
  FROM aimeter.subscriptions x
 CROSS JOIN LATERAL generate_series(date_trunc('month', x.term_start), x.term_end - 1,
				    interval '1 month') m(month)
 CROSS JOIN LATERAL aimeter.seat_cost(x.subscription_id, m.month::date,
				      (m.month + interval '1 month')::date) sc
UNION ALL
SELECT date_trunc('month', x.term_start)::date, 'seat_purchase', 'Purchase', NULL,
       x.term_start, x.term_end, NULL, x.cost_center_id, coalesce(x.tool, ''), '', '',
       x.subscription_id, 0, 0, 0, 0, 0, 0, 0, 0, x.seats,
       x.seats * x.price_per_seat, x.seats * x.price_per_seat, 0, 0, x.currency
  FROM aimeter.subscriptions x;

-- ---------------------------------------------------------------------------
-- Month close: the ledger lines of a closed month, frozen.
CREATE TABLE aimeter.close_lines AS SELECT * FROM aimeter.ledger_live WITH NO DATA;
CREATE INDEX ON aimeter.close_lines (accounting_month);
CREATE TRIGGER close_lines_append_only BEFORE UPDATE ON aimeter.close_lines
	FOR EACH ROW EXECUTE FUNCTION aimeter.refuse_change();

-- The ledger as reported: frozen lines for closed months, live otherwise.
CREATE VIEW aimeter.ledger AS
SELECT l.* FROM aimeter.close_lines l
 WHERE EXISTS (SELECT 1 FROM aimeter.accounting_periods p
		WHERE p.month = l.accounting_month AND p.status = 'closed')
UNION ALL
SELECT x.* FROM aimeter.ledger_live x
 WHERE NOT EXISTS (SELECT 1 FROM aimeter.accounting_periods p
		    WHERE p.month = x.accounting_month AND p.status = 'closed');

-- aimeter.ledger_hash(month, live): SHA-256 (hex) over the month's lines in
-- a canonical order; live = true recomputes from the live ledger.
CREATE FUNCTION aimeter.ledger_hash(p_month date, p_live boolean)
RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v text;
BEGIN
	IF p_live THEN
		SELECT string_agg(l::text, E'\n' ORDER BY l::text) INTO v
		  FROM aimeter.ledger_live l WHERE l.accounting_month = p_month;
	ELSE
		SELECT string_agg(l::text, E'\n' ORDER BY l::text) INTO v
		  FROM aimeter.close_lines l WHERE l.accounting_month = p_month;
	END IF;
	RETURN encode(sha256(convert_to(coalesce(v, ''), 'UTF8')), 'hex');
END
$$;

-- aimeter.month_close(month): freeze a finished month; returns the hash.
CREATE FUNCTION aimeter.month_close(p_month date)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_month date := date_trunc('month', p_month)::date;
	v_hash text;
	v_n int;
BEGIN
	IF v_month >= date_trunc('month', now() AT TIME ZONE 'UTC')::date THEN
		RAISE EXCEPTION 'month % has not ended yet', to_char(v_month, 'YYYY-MM')
			USING ERRCODE = '22023';
	END IF;
	-- Writers of the rollups wait until this commits: the snapshot and the
	-- guard see the same data.
	LOCK TABLE aimeter.usage_daily, aimeter.usage_monthly, aimeter.usage_corrections
		IN SHARE ROW EXCLUSIVE MODE;
	IF aimeter.is_closed(v_month) THEN
		RAISE EXCEPTION 'month % is already closed', to_char(v_month, 'YYYY-MM')
			USING ERRCODE = '55000';
	END IF;
	INSERT INTO aimeter.close_lines SELECT * FROM aimeter.ledger_live WHERE accounting_month = v_month;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	v_hash := aimeter.ledger_hash(v_month, false);
	INSERT INTO aimeter.accounting_periods AS p (month, status, content_hash, line_count,
						     closed_at, closed_by)
	VALUES (v_month, 'closed', v_hash, v_n, now(), session_user)
	ON CONFLICT (month) DO UPDATE SET status = 'closed', content_hash = excluded.content_hash,
		line_count = excluded.line_count, closed_at = excluded.closed_at,
		closed_by = excluded.closed_by;
	INSERT INTO aimeter.period_log (month, action, content_hash) VALUES (v_month, 'close', v_hash);
	PERFORM aimeter.audit('month_close', to_char(v_month, 'YYYY-MM'),
			      jsonb_build_object('content_hash', v_hash, 'lines', v_n));
	PERFORM aimeter.close_guards_refresh();
	RETURN v_hash;
END
$$;

-- aimeter.month_reopen(month, reason): exceptional; logged with the reason.
CREATE FUNCTION aimeter.month_reopen(p_month date, p_reason text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_month date := date_trunc('month', p_month)::date;
	v_hash text;
BEGIN
	IF coalesce(btrim(p_reason), '') = '' THEN
		RAISE EXCEPTION 'reopening a month needs a reason' USING ERRCODE = '22023';
	END IF;
	LOCK TABLE aimeter.usage_daily, aimeter.usage_monthly, aimeter.usage_corrections
		IN SHARE ROW EXCLUSIVE MODE;
	SELECT content_hash INTO v_hash FROM aimeter.accounting_periods
	 WHERE month = v_month AND status = 'closed';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'month % is not closed', to_char(v_month, 'YYYY-MM')
			USING ERRCODE = '55000';
	END IF;
	DELETE FROM aimeter.close_lines WHERE accounting_month = v_month;
	UPDATE aimeter.accounting_periods SET status = 'open' WHERE month = v_month;
	INSERT INTO aimeter.period_log (month, action, reason, content_hash)
	VALUES (v_month, 'reopen', p_reason, v_hash);
	PERFORM aimeter.audit('month_reopen', to_char(v_month, 'YYYY-MM'),
			      jsonb_build_object('reason', p_reason, 'content_hash', v_hash));
	PERFORM aimeter.close_guards_refresh();
	RETURN v_hash;
END
$$;

CREATE VIEW reporting.accounting_periods AS
SELECT to_char(p.month, 'YYYY-MM') AS month, p.status, p.content_hash, p.line_count,
       p.closed_at, p.closed_by
  FROM aimeter.accounting_periods p;

-- ---------------------------------------------------------------------------
-- Reporting ledger with names. team is NULL for the unassigned seat pool.
CREATE VIEW reporting.cost_ledger AS
SELECT l.accounting_month, l.source, l.charge_category, l.charge_class, l.service_start,
       l.service_end, t.name AS team, c.code AS cost_center, c.name AS cost_center_name,
       l.tool, l.model, l.billing_mode, x.name AS subscription, x.vendor, x.plan, l.events,
       l.input_tokens, l.output_tokens, l.cache_write_5m_tokens, l.cache_write_1h_tokens,
       l.cache_read_tokens, l.reasoning_tokens, l.web_search_requests, l.seat_days,
       l.list_cost, l.billed_cost, l.effective_cost, l.unpriced_events, l.currency,
       l.team_id, l.cost_center_id, l.subscription_id
  FROM aimeter.ledger l
  LEFT JOIN aimeter.teams t ON t.team_id = l.team_id
  LEFT JOIN aimeter.cost_centers c ON c.cost_center_id = l.cost_center_id
  LEFT JOIN aimeter.subscriptions x ON x.subscription_id = l.subscription_id;

-- Booked cost per accounting month and team / cost centre: usage at API
-- rates (metered), seat amortisation, corrections; every team listed.
CREATE VIEW reporting.booked_by_team AS
SELECT l.accounting_month AS month, coalesce(l.team, '(seat pool)') AS team, l.currency,
       sum(l.effective_cost) FILTER (WHERE l.source = 'usage') AS usage_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'seat_amortization') AS seat_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'correction') AS corrections,
       sum(l.effective_cost) AS effective_cost,
       sum(l.list_cost) FILTER (WHERE l.source IN ('usage', 'correction')) AS api_equivalent_cost
  FROM reporting.cost_ledger l
 WHERE l.source <> 'seat_purchase'
 GROUP BY 1, 2, 3;

CREATE VIEW reporting.booked_by_cost_center AS
SELECT l.accounting_month AS month, l.cost_center, l.currency,
       sum(l.effective_cost) FILTER (WHERE l.source = 'usage') AS usage_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'seat_amortization') AS seat_cost,
       sum(l.effective_cost) FILTER (WHERE l.source = 'correction') AS corrections,
       sum(l.effective_cost) AS effective_cost,
       sum(l.list_cost) FILTER (WHERE l.source IN ('usage', 'correction')) AS api_equivalent_cost
  FROM reporting.cost_ledger l
 WHERE l.source <> 'seat_purchase'
 GROUP BY 1, 2, 3;

-- Seat cost per month, subscription and team (NULL team: the pool).
CREATE VIEW reporting.seat_cost_monthly AS
SELECT l.accounting_month AS month, l.subscription, l.vendor, l.plan,
       coalesce(l.team, '(seat pool)') AS team, l.cost_center, l.seat_days,
       l.effective_cost AS amount, l.currency
  FROM reporting.cost_ledger l
 WHERE l.source = 'seat_amortization';

-- ---------------------------------------------------------------------------
-- Seat utilisation as of a day: assigned versus active in the 28 days before
-- it; idle = assigned for 14 days or more with no activity in the last 14.
-- Counts of a subscription with fewer assignees than the minimum group size
-- are NULL (they would describe individuals).
CREATE FUNCTION aimeter.seat_utilisation(p_as_of date)
RETURNS TABLE (subscription text, vendor text, plan text, tool text, seats int,
	       assigned bigint, unassigned bigint, active_28d bigint, idle_14d bigint,
	       utilisation numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH a AS (
		SELECT x.subscription_id, a.valid_from, p.person_key,
		       EXISTS (SELECT 1 FROM aimeter.activity_daily d
				WHERE d.person_key = p.person_key
				  AND d.tool = coalesce(x.tool, '*')
				  AND d.day >= p_as_of - 28 AND d.day < p_as_of) AS active28,
		       EXISTS (SELECT 1 FROM aimeter.activity_daily d
				WHERE d.person_key = p.person_key
				  AND d.tool = coalesce(x.tool, '*')
				  AND d.day >= p_as_of - 14 AND d.day < p_as_of) AS active14
		  FROM aimeter.subscriptions x
		  JOIN aimeter.seat_assignments a ON a.subscription_id = x.subscription_id
		  JOIN aimeter.people p ON p.person_id = a.person_id
		 WHERE a.valid_from <= p_as_of AND (a.valid_to IS NULL OR p_as_of < a.valid_to)
	), g AS (
		SELECT a.subscription_id, count(*) AS assigned,
		       count(*) FILTER (WHERE a.active28) AS active28,
		       count(*) FILTER (WHERE NOT a.active14 AND a.valid_from <= p_as_of - 14) AS idle14
		  FROM a GROUP BY 1
	)
	SELECT x.name, x.vendor, x.plan, x.tool, x.seats, coalesce(g.assigned, 0),
	       greatest(x.seats - coalesce(g.assigned, 0), 0),
	       CASE WHEN coalesce(g.assigned, 0) >= s.min_group_size THEN g.active28 END,
	       CASE WHEN coalesce(g.assigned, 0) >= s.min_group_size THEN g.idle14 END,
	       CASE WHEN coalesce(g.assigned, 0) >= s.min_group_size AND x.seats > 0
		    THEN round(g.active28::numeric / x.seats, 4) END
	  FROM aimeter.subscriptions x
	  LEFT JOIN g ON g.subscription_id = x.subscription_id
	 CROSS JOIN aimeter.settings s
	 WHERE x.term_start <= p_as_of AND p_as_of < x.term_end
	 ORDER BY x.name
$$;
CREATE VIEW reporting.seat_utilisation AS
SELECT * FROM aimeter.seat_utilisation(current_date);

-- Cost per active person per month and team: metered usage plus seats
-- (effective cost, corrections included) over monthly active people.
CREATE VIEW reporting.cost_per_active_person AS
SELECT b.month, b.team, b.currency, b.effective_cost, a.active_people,
       round(b.effective_cost / nullif(a.active_people, 0), 6) AS cost_per_active_person,
       round(b.api_equivalent_cost / nullif(a.active_people, 0), 6)
	       AS api_equivalent_per_active_person
  FROM reporting.booked_by_team b
  JOIN reporting.adoption_monthly a ON a.month = b.month AND a.team = b.team AND a.tool = 'all';

-- ---------------------------------------------------------------------------
-- Budgets per team or cost centre and month; the latest version counts.
CREATE TABLE aimeter.budgets (
	budget_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	team_id int REFERENCES aimeter.teams,
	cost_center_id int REFERENCES aimeter.cost_centers,
	month date NOT NULL CHECK (month = date_trunc('month', month)::date),
	amount numeric NOT NULL CHECK (amount > 0),
	currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
	version text NOT NULL DEFAULT 'original',
	thresholds int[] NOT NULL DEFAULT '{50,80,100}'
		CHECK (cardinality(thresholds) > 0 AND 0 < ALL (thresholds)),
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	CHECK ((team_id IS NULL) <> (cost_center_id IS NULL)),
	UNIQUE NULLS NOT DISTINCT (team_id, cost_center_id, month, version)
);
-- One alert per budget and threshold, ever.
CREATE TABLE aimeter.budget_alerts (
	budget_id bigint NOT NULL REFERENCES aimeter.budgets ON DELETE CASCADE,
	threshold int NOT NULL,
	fired_at timestamptz NOT NULL DEFAULT now(),
	actual numeric NOT NULL,
	PRIMARY KEY (budget_id, threshold)
);

CREATE VIEW reporting.budget_vs_actual AS
WITH b AS (
	SELECT DISTINCT ON (x.team_id, x.cost_center_id, x.month) x.*
	  FROM aimeter.budgets x
	 ORDER BY x.team_id, x.cost_center_id, x.month, x.created_at DESC, x.budget_id DESC
)
SELECT b.budget_id, to_char(b.month, 'YYYY-MM') AS month,
       CASE WHEN b.team_id IS NOT NULL THEN 'team' ELSE 'cost_center' END AS scope,
       coalesce(t.name, c.code) AS name, b.version, b.currency, b.amount AS budget, a.actual,
       round(a.actual * 100 / b.amount, 2) AS pct_used,
       ARRAY(SELECT th FROM unnest(b.thresholds) th WHERE a.actual * 100 >= b.amount * th
	      ORDER BY th) AS thresholds_crossed,
       (SELECT max(th) FROM unnest(b.thresholds) th WHERE a.actual * 100 >= b.amount * th)
	       AS highest_threshold,
       CASE WHEN b.month = date_trunc('month', now() AT TIME ZONE 'UTC')::date
	    THEN round(a.actual
		       * extract(day FROM b.month + interval '1 month' - b.month)::numeric
		       / greatest(extract(day FROM now() AT TIME ZONE 'UTC')::numeric, 1), 6)
	    ELSE a.actual END AS forecast,
       b.thresholds
  FROM b
  LEFT JOIN aimeter.teams t ON t.team_id = b.team_id
  LEFT JOIN aimeter.cost_centers c ON c.cost_center_id = b.cost_center_id
 CROSS JOIN LATERAL (
	SELECT coalesce(sum(l.effective_cost), 0) AS actual
	  FROM aimeter.ledger l
	 WHERE l.accounting_month = b.month AND l.currency = b.currency
	   AND l.source <> 'seat_purchase'
	   AND (l.team_id = b.team_id OR l.cost_center_id = b.cost_center_id)) a;

-- aimeter.budget_alerts_fire(): record thresholds newly crossed; returns them.
CREATE FUNCTION aimeter.budget_alerts_fire()
RETURNS TABLE (month text, scope text, name text, threshold int, actual numeric, budget numeric)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH fired AS (
		INSERT INTO aimeter.budget_alerts (budget_id, threshold, actual)
		SELECT v.budget_id, th, v.actual
		  FROM reporting.budget_vs_actual v CROSS JOIN LATERAL unnest(v.thresholds_crossed) th
		ON CONFLICT DO NOTHING
		RETURNING budget_id, threshold, actual
	)
	SELECT v.month, v.scope, v.name, f.threshold, f.actual, v.budget
	  FROM fired f JOIN reporting.budget_vs_actual v ON v.budget_id = f.budget_id
	 ORDER BY 1, 2, 3, 4
$$;

-- ---------------------------------------------------------------------------
-- FOCUS.
CREATE FUNCTION aimeter.vendor_name(p_provider text, p_model text, p_tool text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN lower(p_provider) = 'anthropic' OR p_model LIKE 'claude%' THEN 'Anthropic'
		WHEN lower(p_provider) = 'openai' OR p_model ~ '^(gpt|o[0-9]|codex)' THEN 'OpenAI'
		WHEN lower(p_provider) = 'google' OR p_model LIKE 'gemini%' THEN 'Google'
		WHEN coalesce(p_provider, '') <> '' THEN initcap(p_provider)
		WHEN p_tool = 'claude-code' THEN 'Anthropic'
		WHEN p_tool = 'codex' THEN 'OpenAI'
		WHEN p_tool = 'gemini-cli' THEN 'Google'
		WHEN p_tool = 'cursor' THEN 'Anysphere'
		WHEN p_tool = 'copilot' THEN 'GitHub'
		ELSE 'Unknown' END
$$;

-- Usage and corrections: one row per token class (and web search), the
-- line's cost split in proportion to tokens x list rate of the model's
-- price row; seats: one row per line.
CREATE VIEW reporting.focus_cost_and_usage AS
WITH tok AS (
	SELECT l.*, p.price_id, p.provider,
	       k.meter, k.direction, k.cache_action, k.qty, k.unit, k.w,
	       sum(k.w) OVER (PARTITION BY l.accounting_month, l.source, l.service_start,
				 l.team_id, l.cost_center_id, l.tool, l.model, l.billing_mode) AS wsum,
	       sum(k.qty) OVER (PARTITION BY l.accounting_month, l.source, l.service_start,
				   l.team_id, l.cost_center_id, l.tool, l.model, l.billing_mode) AS qsum
	  FROM aimeter.ledger l
	  LEFT JOIN LATERAL (
		SELECT pr.* FROM aimeter.prices pr
		 WHERE l.model LIKE pr.like_pattern
		   AND pr.effective_from < l.service_end::timestamp AT TIME ZONE 'UTC'
		 ORDER BY length(pr.model_pattern) DESC, pr.effective_from DESC, pr.price_id DESC
		 LIMIT 1) p ON true
	 CROSS JOIN LATERAL (VALUES
		('Input Tokens', 'Input', 'Uncached', l.input_tokens, 'Tokens',
		 l.input_tokens * coalesce(p.input_per_mtok, 0)),
		('Output Tokens', 'Output', NULL, l.output_tokens, 'Tokens',
		 l.output_tokens * coalesce(p.output_per_mtok, 0)),
		('Cache Write 5m Input Tokens', 'Input', 'Write5m', l.cache_write_5m_tokens, 'Tokens',
		 l.cache_write_5m_tokens * coalesce(p.cache_write_5m_per_mtok, p.input_per_mtok, 0)),
		('Cache Write 1h Input Tokens', 'Input', 'Write1h', l.cache_write_1h_tokens, 'Tokens',
		 l.cache_write_1h_tokens * coalesce(p.cache_write_1h_per_mtok, p.input_per_mtok, 0)),
		('Cache Read Input Tokens', 'Input', 'Read', l.cache_read_tokens, 'Tokens',
		 l.cache_read_tokens * coalesce(p.cache_read_per_mtok, p.input_per_mtok, 0)),
		('Web Search Requests', NULL, NULL, l.web_search_requests, 'Requests',
		 l.web_search_requests * coalesce(p.web_search_per_1k, 0) * 1000)
	 ) k(meter, direction, cache_action, qty, unit, w)
	 WHERE l.source IN ('usage', 'correction') AND k.qty <> 0
), rows AS (
	SELECT t.accounting_month, t.source, t.charge_category, t.charge_class, t.service_start,
	       t.service_end, t.team_id, t.cost_center_id, t.tool, t.model, t.billing_mode,
	       NULL::int AS subscription_id, t.currency, t.events, t.unpriced_events,
	       -- share of the line: by list-rate weight, else by quantity
	       CASE WHEN t.wsum <> 0 THEN t.w / t.wsum ELSE t.qty / nullif(t.qsum, 0) END AS share,
	       t.list_cost, t.billed_cost, t.effective_cost,
	       t.meter, t.direction, t.cache_action, t.qty, t.unit,
	       CASE WHEN t.unit = 'Tokens' THEN t.qty / 1000000 ELSE t.qty / 1000 END AS pricing_qty,
	       CASE WHEN t.unit = 'Tokens' THEN '1000000 Tokens' ELSE '1000 Requests' END AS pricing_unit,
	       aimeter.vendor_name(t.provider, t.model, t.tool) AS vendor,
	       coalesce(tl.display_name, t.tool) AS service_name,
	       'Usage-Based' AS frequency,
	       t.model || ':' || t.meter AS sku_id, t.price_id::text AS sku_price_id,
	       jsonb_strip_nulls(jsonb_build_object(
		       'ModelId', t.model,
		       'ModelDeveloper', aimeter.vendor_name(t.provider, t.model, t.tool),
		       'ModelFamily', nullif(regexp_replace(t.model, '-[0-9].*$', ''), ''),
		       'ModelVersion', substring(t.model FROM '-([0-9].*)$'),
		       'TokenDirection', t.direction, 'TokenCacheAction', t.cache_action,
		       'BillingMode', t.billing_mode)) AS details
	  FROM tok t
	  LEFT JOIN aimeter.tools tl ON tl.tool = t.tool
	UNION ALL
	SELECT l.accounting_month, l.source, l.charge_category, l.charge_class, l.service_start,
	       l.service_end, l.team_id, l.cost_center_id, l.tool, '', '', l.subscription_id,
	       l.currency, 0, 0, 1, l.list_cost, l.billed_cost, l.effective_cost,
	       'Seat', NULL, NULL,
	       CASE WHEN l.source = 'seat_amortization' THEN l.seat_days END,
	       CASE WHEN l.source = 'seat_amortization' THEN 'Seat-Days' END,
	       l.seat_days,
	       CASE WHEN l.source = 'seat_amortization' THEN 'Seat-Days' ELSE 'Seats' END,
	       x.vendor, x.vendor || ' ' || x.plan,
	       CASE WHEN l.source = 'seat_amortization' THEN 'Recurring' ELSE 'One-Time' END,
	       x.vendor || ':' || x.plan || ':Seat', x.subscription_id::text,
	       jsonb_build_object('Plan', x.plan, 'Seats', x.seats, 'TermStart', x.term_start,
				  'TermEnd', x.term_end, 'PricePerSeatPerTerm', x.price_per_seat)
	  FROM aimeter.ledger l
	  JOIN aimeter.subscriptions x ON x.subscription_id = l.subscription_id
	 WHERE l.source IN ('seat_amortization', 'seat_purchase')
)
SELECT r.billed_cost * r.share AS "BilledCost",
       r.effective_cost * r.share AS "EffectiveCost",
       r.list_cost * r.share AS "ListCost",
       r.billed_cost * r.share AS "ContractedCost",
       r.currency AS "BillingCurrency",
       s.billing_account_id AS "BillingAccountId",
       s.billing_account_name AS "BillingAccountName",
       r.accounting_month::timestamp AT TIME ZONE 'UTC' AS "BillingPeriodStart",
       (r.accounting_month + interval '1 month')::timestamp AT TIME ZONE 'UTC' AS "BillingPeriodEnd",
       r.service_start::timestamp AT TIME ZONE 'UTC' AS "ChargePeriodStart",
       r.service_end::timestamp AT TIME ZONE 'UTC' AS "ChargePeriodEnd",
       r.charge_category AS "ChargeCategory",
       r.charge_class AS "ChargeClass",
       r.service_name || ' ' || CASE WHEN r.subscription_id IS NULL
					 THEN r.model || ' ' || r.meter
					 ELSE r.meter END
	   || CASE WHEN r.source = 'seat_purchase' THEN ' purchase'
		   WHEN r.source = 'correction' THEN ' (late usage of '
			|| to_char(r.service_start, 'YYYY-MM-DD') || ')'
		   WHEN r.billing_mode = 'subscription' THEN ' (subscription, API-equivalent)'
		   ELSE '' END AS "ChargeDescription",
       r.frequency AS "ChargeFrequency",
       r.pricing_qty AS "PricingQuantity",
       r.pricing_unit AS "PricingUnit",
       r.service_name AS "ServiceName",
       'AI and Machine Learning'::text AS "ServiceCategory",
       'Generative AI'::text AS "ServiceSubcategory",
       r.vendor AS "InvoiceIssuerName",
       r.vendor AS "ProviderName",
       r.vendor AS "PublisherName",
       r.vendor AS "ServiceProviderName",
       r.vendor AS "HostProviderName",
       r.qty AS "ConsumedQuantity",
       r.unit AS "ConsumedUnit",
       round(r.list_cost * r.share / nullif(r.pricing_qty, 0), 10) AS "ListUnitPrice",
       round(r.billed_cost * r.share / nullif(r.pricing_qty, 0), 10) AS "ContractedUnitPrice",
       r.sku_id AS "SkuId",
       r.sku_price_id AS "SkuPriceId",
       r.meter AS "SkuMeter",
       r.details AS "SkuPriceDetails",
       cc.code AS "SubAccountId",
       coalesce(cc.name, cc.code) AS "SubAccountName",
       jsonb_strip_nulls(jsonb_build_object('team', coalesce(t.name, '(seat pool)'),
					    'cost_center', cc.code,
					    'tool', nullif(r.tool, ''))) AS "Tags",
       coalesce(t.name, '(seat pool)') AS "x_Team",
       cc.code AS "x_CostCenter",
       nullif(r.tool, '') AS "x_Tool",
       nullif(r.billing_mode, '') AS "x_BillingMode",
       r.source AS "x_Source",
       r.service_start AS "x_ServiceDay",
       r.events AS "x_LineEvents",
       r.unpriced_events AS "x_LineUnpricedEvents"
  FROM rows r
  LEFT JOIN aimeter.teams t ON t.team_id = r.team_id
  LEFT JOIN aimeter.cost_centers cc ON cc.cost_center_id = r.cost_center_id
 CROSS JOIN aimeter.settings s;
