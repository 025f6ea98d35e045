-- 0004_finance.sql (issue 7): seats and their amortisation, the cost
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

-- ---------------------------------------------------------------------------
-- Month close: the ledger lines of a closed month, frozen. The columns of
-- the view aimeter.ledger_live (collector/schema/views/aimeter.ledger_live.sql).
CREATE TABLE aimeter.close_lines (
	accounting_month date, source text, charge_category text, charge_class text,
	service_start date, service_end date, team_id int, cost_center_id int, tool text,
	model text, billing_mode text, subscription_id int, events bigint,
	input_tokens numeric, output_tokens numeric, cache_write_5m_tokens numeric,
	cache_write_1h_tokens numeric, cache_read_tokens numeric, reasoning_tokens numeric,
	web_search_requests numeric, seat_days numeric, list_cost numeric, billed_cost numeric,
	effective_cost numeric, unpriced_events bigint, currency text
);
CREATE INDEX ON aimeter.close_lines (accounting_month);

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

