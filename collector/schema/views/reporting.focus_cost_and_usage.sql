-- Usage and corrections: one row per token class (and web search), the
-- line's cost split in proportion to tokens x list rate of the model's
-- price row; a correction without tokens (a reprice) is one "Cost
-- Adjustment" row; seats: one row per line. ContractedCost and
-- EffectiveCost of metered usage apply the negotiated rate in force
-- (aimeter.negotiated_rates: a contracted price for the token class, else
-- the discount); ListCost and BilledCost stay at list (docs/pricing.md).
CREATE OR REPLACE VIEW reporting.focus_cost_and_usage AS
WITH tok AS (
	SELECT l.*, p.price_id, p.provider, nr.discount_pct, nr.rate_id,
	       CASE k.meter WHEN 'Input Tokens' THEN nr.input_per_mtok
			    WHEN 'Output Tokens' THEN nr.output_per_mtok
			    WHEN 'Cache Read Input Tokens' THEN nr.cache_read_per_mtok
			    WHEN 'Cache Write 5m Input Tokens' THEN nr.cache_write_per_mtok
			    WHEN 'Cache Write 1h Input Tokens' THEN nr.cache_write_per_mtok END
		   AS contracted_per_mtok,
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
	  LEFT JOIN LATERAL (
		-- the most specific negotiated rate in force on the service start
		SELECT r.* FROM aimeter.negotiated_rates r
		 WHERE r.effective_from <= l.service_start
		   AND (r.model_pattern IS NULL OR l.model LIKE r.like_pattern)
		   AND (r.tool IS NULL OR r.tool = l.tool)
		   AND (r.vendor IS NULL OR r.vendor = aimeter.vendor_name(p.provider, l.model, l.tool))
		 ORDER BY (r.model_pattern IS NOT NULL) DESC, length(r.model_pattern) DESC NULLS LAST,
			  (r.tool IS NOT NULL) DESC, (r.vendor IS NOT NULL) DESC,
			  r.effective_from DESC, r.rate_id DESC
		 LIMIT 1) nr ON true
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
		 l.web_search_requests * coalesce(p.web_search_per_1k, 0) * 1000),
		('Cost Adjustment', NULL, NULL, NULL, NULL, 0)
	 ) k(meter, direction, cache_action, qty, unit, w)
	 WHERE l.source IN ('usage', 'correction')
	   AND (k.qty <> 0
		OR (k.meter = 'Cost Adjustment' AND l.input_tokens = 0 AND l.output_tokens = 0
		    AND l.cache_write_5m_tokens = 0 AND l.cache_write_1h_tokens = 0
		    AND l.cache_read_tokens = 0 AND l.web_search_requests = 0))
), rows AS (
	SELECT t.accounting_month, t.source, t.charge_category, t.charge_class, t.service_start,
	       t.service_end, t.team_id, t.cost_center_id, t.tool, t.model, t.billing_mode,
	       NULL::int AS subscription_id, t.currency, t.events, t.unpriced_events,
	       -- share of the line: by list-rate weight, else by quantity
	       CASE WHEN t.wsum <> 0 THEN t.w / t.wsum WHEN t.qsum <> 0 THEN t.qty / t.qsum
		    ELSE 1 END AS share,
	       t.list_cost, t.billed_cost, t.effective_cost,
	       -- the negotiated rate: a contracted price of the token class
	       -- (billed lines only: subscription use is billed nothing), else the discount
	       CASE WHEN t.contracted_per_mtok IS NOT NULL
		    THEN CASE WHEN t.billed_cost = 0 THEN 0 ELSE t.qty * t.contracted_per_mtok / 1000000 END
		    END AS contracted_amount,
	       1 - coalesce(t.discount_pct, 0) / 100 AS contracted_factor,
	       t.meter, t.direction, t.cache_action, t.qty, t.unit,
	       CASE WHEN t.unit = 'Tokens' THEN t.qty / 1000000 ELSE t.qty / 1000 END AS pricing_qty,
	       CASE WHEN t.unit = 'Tokens' THEN '1000000 Tokens'
		    WHEN t.unit = 'Requests' THEN '1000 Requests' END AS pricing_unit,
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
	       l.currency, 0, 0, 1, l.list_cost, l.billed_cost, l.effective_cost, NULL, 1,
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
       coalesce(CASE WHEN r.effective_cost = 0 THEN 0 END, r.contracted_amount,
		r.effective_cost * r.share * r.contracted_factor) AS "EffectiveCost",
       r.list_cost * r.share AS "ListCost",
       coalesce(r.contracted_amount, r.billed_cost * r.share * r.contracted_factor) AS "ContractedCost",
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
		   WHEN r.source = 'correction' AND r.events = 0 THEN ' (repricing of '
			|| to_char(r.service_start, 'YYYY-MM-DD') || ')'
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
       round(coalesce(r.contracted_amount, r.billed_cost * r.share * r.contracted_factor)
	     / nullif(r.pricing_qty, 0), 10) AS "ContractedUnitPrice",
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
-- Line by line, small groups included: finance and admins only (0014).
REVOKE SELECT ON reporting.focus_cost_and_usage FROM aimeter_reader;
GRANT SELECT ON reporting.focus_cost_and_usage TO aimeter_finance;
