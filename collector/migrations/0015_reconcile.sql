-- Reconciliation with vendor billing (issue 16 item 5, docs/reconciliation.md):
-- what the vendors billed, pulled from their admin APIs (`aimeterctl billing
-- pull`) or imported from an invoice CSV (`billing import-invoice`), beside
-- aimeter's estimate; and the adjustments booked when the two differ.

-- One row per pull or import: what period of which source it replaced.
CREATE TABLE aimeter.billing_pulls (
	pull_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor text NOT NULL CHECK (vendor ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
	source text NOT NULL CHECK (source <> ''),
	period_start date NOT NULL,
	period_end date NOT NULL CHECK (period_end > period_start), -- exclusive
	invoice text,     -- the invoice number, for source 'invoice'
	lines int NOT NULL CHECK (lines >= 0),
	pulled_at timestamptz NOT NULL DEFAULT now()
);
-- The billed lines. A re-pull of a period deletes that period's lines of its
-- vendor and source and inserts the new ones in one transaction; an invoice
-- re-imported replaces that invoice's lines. amount is exact, in currency
-- units (the cost report's cents are divided at insert).
CREATE TABLE aimeter.billed_lines (
	pull_id bigint NOT NULL REFERENCES aimeter.billing_pulls,
	vendor text NOT NULL,
	source text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('cost', 'usage', 'estimate')),
	account text NOT NULL,     -- workspace, project or API key; '' for none
	model text NOT NULL,       -- '' when not per model
	day date NOT NULL,
	line_item text NOT NULL,
	amount numeric NOT NULL,
	currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	input_tokens bigint NOT NULL DEFAULT 0,
	output_tokens bigint NOT NULL DEFAULT 0,
	cache_read_tokens bigint NOT NULL DEFAULT 0,
	cache_write_tokens bigint NOT NULL DEFAULT 0,
	requests bigint NOT NULL DEFAULT 0,
	invoice text
);
CREATE INDEX billed_lines_period ON aimeter.billed_lines (vendor, source, day);
CREATE INDEX billed_lines_invoice ON aimeter.billed_lines (vendor, invoice) WHERE invoice IS NOT NULL;
-- Which vendor account (workspace, project, API key) a team's metered usage
-- is billed to; unmapped teams and accounts compare under account ''.
CREATE TABLE aimeter.billing_accounts (
	vendor text NOT NULL,
	team_id int NOT NULL REFERENCES aimeter.teams ON DELETE CASCADE,
	account text NOT NULL CHECK (account <> ''),
	PRIMARY KEY (vendor, team_id)
);
-- Adjustments: append-only ledger lines that true up the estimate to the bill,
-- each with its reason; booked in the first open month at or after the day.
CREATE TABLE aimeter.billing_adjustments (
	adjustment_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	accounting_month date NOT NULL,
	vendor text NOT NULL,
	account text NOT NULL,
	model text NOT NULL,
	day date NOT NULL,
	team_id int REFERENCES aimeter.teams,
	cost_center_id int NOT NULL DEFAULT 0 REFERENCES aimeter.cost_centers,
	amount numeric NOT NULL CHECK (amount <> 0),
	currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
	reason text NOT NULL CHECK (length(btrim(reason)) > 0),
	booked_by text NOT NULL DEFAULT current_user,
	booked_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON aimeter.billing_pulls, aimeter.billed_lines,
	aimeter.billing_accounts TO aimeter_admin;
-- Append-only for everyone (the trigger refuses UPDATE and DELETE).
GRANT SELECT, INSERT ON aimeter.billing_adjustments TO aimeter_admin;
