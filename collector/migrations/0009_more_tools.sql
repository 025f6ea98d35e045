-- 0009: the tools the agent reads since issue 13, under their wire names.
-- Ingest refuses an event whose tool is not in aimeter.tools
-- ("unknown_tool"), so without these rows the events of Copilot CLI, Amp,
-- OpenCode and Qwen Code would be rejected at the collector. 'copilot'
-- stays for GitHub Copilot's own OpenTelemetry (no agent reader).
INSERT INTO aimeter.tools VALUES
	('copilot-cli', 'GitHub Copilot CLI'),
	('amp', 'Amp'),
	('opencode', 'OpenCode'),
	('qwen-code', 'Qwen Code')
ON CONFLICT (tool) DO NOTHING;
