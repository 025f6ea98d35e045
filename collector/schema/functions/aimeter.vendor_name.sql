-- FOCUS.
CREATE OR REPLACE FUNCTION aimeter.vendor_name(p_provider text, p_model text, p_tool text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN lower(p_provider) = 'anthropic' OR p_model LIKE 'claude%' THEN 'Anthropic'
		WHEN lower(p_provider) = 'openai' OR p_model ~ '^(gpt|o[0-9]|codex)' THEN 'OpenAI'
		WHEN lower(p_provider) = 'google' OR p_model LIKE 'gemini%' THEN 'Google'
		WHEN lower(p_provider) = 'alibaba' OR p_model LIKE 'qwen%' THEN 'Alibaba Cloud'
		WHEN coalesce(p_provider, '') <> '' THEN initcap(p_provider)
		WHEN p_tool = 'claude-code' THEN 'Anthropic'
		WHEN p_tool = 'codex' THEN 'OpenAI'
		WHEN p_tool = 'gemini-cli' THEN 'Google'
		WHEN p_tool = 'cursor' THEN 'Anysphere'
		WHEN p_tool IN ('copilot', 'copilot-cli') THEN 'GitHub'
		WHEN p_tool = 'qwen-code' THEN 'Alibaba Cloud'
		WHEN p_tool = 'amp' THEN 'Amp'
		ELSE 'Unknown' END
$$;
REVOKE ALL ON FUNCTION aimeter.vendor_name(text,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aimeter.vendor_name(text,text,text) TO aimeter_reader, aimeter_admin;
