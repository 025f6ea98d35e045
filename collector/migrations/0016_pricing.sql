-- 0013 (issue 16, pricing): service tiers priced, negotiated rates, reprice
-- runs (docs/pricing.md).
--
-- Service tiers: each price row says what batch, flex and priority cost
-- relative to standard. Both vendors document Batch and Flex at half the
-- standard rate; priority has no default premium (a row says it).
ALTER TABLE aimeter.prices
	ADD COLUMN batch_multiplier numeric NOT NULL DEFAULT 0.5 CHECK (batch_multiplier > 0),
	ADD COLUMN flex_multiplier numeric NOT NULL DEFAULT 0.5 CHECK (flex_multiplier > 0),
	ADD COLUMN priority_multiplier numeric NOT NULL DEFAULT 1 CHECK (priority_multiplier > 0);
-- The content key covers the new columns: a row that differs only there is a new row.
DROP INDEX aimeter.prices_content_key;
CREATE UNIQUE INDEX prices_content_key ON aimeter.prices (model_pattern, provider, input_per_mtok,
	output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok, cache_read_per_mtok,
	long_context_threshold_tokens, long_context_input_per_mtok, long_context_output_per_mtok,
	web_search_per_1k, fast_multiplier, source, as_of, effective_from, batch_multiplier,
	flex_multiplier, priority_multiplier) NULLS NOT DISTINCT;
-- aimeter.price_cost() gains the tier: the old signature goes (the schema
-- objects that call it are re-applied after the migrations).
DROP FUNCTION IF EXISTS aimeter.price_cost(numeric, numeric, numeric, numeric, numeric, bigint,
	numeric, numeric, numeric, numeric, bigint, bigint, bigint, bigint, bigint, bigint, text);

-- Negotiated rates: a discount, or contracted prices, for a vendor, a model
-- (glob) or a tool, from a date. Append-only like the price book; the most
-- specific row in force wins (model, then tool, then vendor; then the
-- latest effective_from). They give FOCUS ContractedCost and EffectiveCost;
-- ListCost stays the price book's.
CREATE TABLE aimeter.negotiated_rates (
	rate_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor text,         -- as aimeter.vendor_name() spells it ("Anthropic")
	model_pattern text,  -- a glob, as in the price book
	tool text,
	like_pattern text GENERATED ALWAYS AS (
		replace(replace(replace(replace(replace(model_pattern, '\', '\\'), '%', '\%'),
			'_', '\_'), '*', '%'), '?', '_')) STORED,
	discount_pct numeric CHECK (discount_pct >= 0 AND discount_pct <= 100),
	-- contracted USD per million tokens (NULL: the discount, else list)
	input_per_mtok numeric CHECK (input_per_mtok >= 0),
	output_per_mtok numeric CHECK (output_per_mtok >= 0),
	cache_write_per_mtok numeric CHECK (cache_write_per_mtok >= 0),
	cache_read_per_mtok numeric CHECK (cache_read_per_mtok >= 0),
	effective_from date NOT NULL,
	contract_ref text NOT NULL DEFAULT '',
	recorded_at timestamptz NOT NULL DEFAULT now(),
	CHECK (vendor IS NOT NULL OR model_pattern IS NOT NULL OR tool IS NOT NULL),
	CHECK (discount_pct IS NOT NULL OR input_per_mtok IS NOT NULL OR output_per_mtok IS NOT NULL
	       OR cache_write_per_mtok IS NOT NULL OR cache_read_per_mtok IS NOT NULL)
);
CREATE UNIQUE INDEX negotiated_rates_content_key ON aimeter.negotiated_rates (vendor, model_pattern,
	tool, discount_pct, input_per_mtok, output_per_mtok, cache_write_per_mtok,
	cache_read_per_mtok, effective_from, contract_ref) NULLS NOT DISTINCT;
GRANT SELECT, INSERT ON aimeter.negotiated_rates TO aimeter_admin;

-- Reprice runs: what each `aimeterctl reprice` changed, for the audit trail.
CREATE TABLE aimeter.reprice_runs (
	run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ran_at timestamptz NOT NULL DEFAULT now(),
	ran_by text NOT NULL DEFAULT session_user,
	day_from date NOT NULL,
	day_to date NOT NULL,
	model text,
	events bigint NOT NULL,         -- events whose cost or price row changed
	newly_priced bigint NOT NULL,   -- of them, unpriced before
	delta_open numeric NOT NULL,    -- cost changed in place (open months)
	delta_closed numeric NOT NULL   -- cost booked as corrections (closed months)
);
GRANT SELECT ON aimeter.reprice_runs TO aimeter_admin;
