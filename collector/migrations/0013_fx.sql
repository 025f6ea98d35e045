-- 0015_fx.sql (issue 16): exchange rates, so a budget in one currency
-- counts ledger lines in another (reporting.budget_vs_actual). Append-only
-- like the price book (trigger aimeter.fx_rates.fx_rates_append_only): a
-- correction is a new row; for a pair and day the latest effective_from
-- wins, then the latest recorded row.
CREATE TABLE aimeter.fx_rates (
	fx_rate_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	from_currency text NOT NULL CHECK (from_currency ~ '^[A-Z]{3}$'),
	to_currency text NOT NULL CHECK (to_currency ~ '^[A-Z]{3}$'),
	rate numeric NOT NULL CHECK (rate > 0), -- to_currency per one from_currency
	effective_from date NOT NULL,
	source text NOT NULL DEFAULT '',
	recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	CHECK (from_currency <> to_currency)
);
-- An identical re-import adds nothing: the content is unique.
CREATE UNIQUE INDEX fx_rates_content_key
	ON aimeter.fx_rates (from_currency, to_currency, effective_from, rate, source);
GRANT SELECT, INSERT, UPDATE, DELETE ON aimeter.fx_rates TO aimeter_admin;
