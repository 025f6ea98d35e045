-- aimeter.billing_vendor(tool, model, billing_mode): the vendor that bills a
-- usage row, as billed_lines name it (lower case, '-' for spaces): the
-- model's vendor for metered API use, 'cloud' for Bedrock/Vertex use (billed
-- by the cloud provider), NULL for seat (subscription) use, which no vendor
-- meters (docs/reconciliation.md).
CREATE OR REPLACE FUNCTION aimeter.billing_vendor(p_tool text, p_model text, p_billing_mode text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_billing_mode
		WHEN 'api' THEN lower(replace(aimeter.vendor_name(NULL, p_model, p_tool), ' ', '-'))
		WHEN 'cloud' THEN 'cloud'
	END
$$;
REVOKE ALL ON FUNCTION aimeter.billing_vendor(text,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.billing_vendor(text,text,text) TO aimeter_reader, aimeter_admin;
