/*
 * test-source-qwen.c: the Qwen Code reader (specs/more-tools.md, "Qwen
 * Code"; docs/tool-formats.md): the sample files Qwen Code 0.24.4 wrote
 * (tests/fixtures/qwen-code/.qwen) and the mapping line by line.
 */
#include "agent-fixture.h"
#include "source-qwen.h"

/* What Qwen Code 0.24.4 wrote: 8 calls, the memory extractor's and the sub-agent's included. */
TEST(real_sample)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_QWEN, "qwen-code/.qwen");
	ASSERT_EQ(s.ledger.n, 8);
	r = fx_event(&s, EVENT_TOOL_QWEN, "33dfb394-885f-4f3a-af1a-2f5930a68640");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 2200); /* 3005 - 805 cached */
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 805);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 95); /* reasoning inside the completion */
	ASSERT_UINT_EQ(r->tok[EVENT_REASONING], 35);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "qwen3-max");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), "f1221021-61c6-4461-a296-84deb18c441a");
	fx_done(&s);
}

static enum qwen_line
parse(const char *counts, struct qwen_obs *o)
{
	char line[1024];
	struct json_doc d;
	enum qwen_line k;

	snprintf(line, sizeof(line),
		 "{\"uuid\":\"u1\",\"sessionId\":\"s1\",\"timestamp\":\"2026-10-02T10:00:00.000Z\","
		 "\"type\":\"system\",\"subtype\":\"ui_telemetry\",\"systemPayload\":{\"uiEvent\":{"
		 "\"event.name\":\"qwen-code.api_response\",\"model\":\"qwen3-coder-plus\",%s}}}",
		 counts);
	json_doc_init(&d);
	k = qwen_line_parse(&d, line, strlen(line), o);
	json_doc_finish(&d);
	return k;
}

/* Thoughts outside the candidates only when the total says so; nulls are 0; zeros no event. */
TEST(mapping)
{
	struct qwen_obs o;

	ASSERT_EQ(parse("\"input_token_count\":100,\"output_token_count\":10,"
			"\"cached_content_token_count\":40,\"thoughts_token_count\":4,"
			"\"total_token_count\":114", &o), QWEN_LINE_USAGE);
	ASSERT_UINT_EQ(o.tok[EVENT_INPUT], 60);
	ASSERT_UINT_EQ(o.tok[EVENT_OUTPUT], 14); /* Gemini-native: 100 + 10 + 4 */
	ASSERT_UINT_EQ(o.tok[EVENT_REASONING], 4);
	ASSERT_STR_EQ(o.key, "u1");
	ASSERT_EQ(parse("\"input_token_count\":100,\"output_token_count\":10,"
			"\"cached_content_token_count\":null,\"thoughts_token_count\":4,"
			"\"total_token_count\":110", &o), QWEN_LINE_USAGE);
	ASSERT_UINT_EQ(o.tok[EVENT_INPUT], 100);
	ASSERT_UINT_EQ(o.tok[EVENT_OUTPUT], 10); /* OpenAI-compatible: reasoning inside */
	ASSERT_EQ(parse("\"input_token_count\":0,\"output_token_count\":0", &o), QWEN_LINE_OTHER);
	ASSERT_EQ(parse("\"input_token_count\":\"x\"", &o), QWEN_LINE_BAD);
}

/* Assistant records, other telemetry and user text that looks like usage are not usage. */
TEST(not_usage)
{
	static const char *const lines[] = {
		"{\"uuid\":\"a\",\"type\":\"assistant\",\"model\":\"m\",\"usageMetadata\":"
		"{\"promptTokenCount\":5,\"candidatesTokenCount\":5}}",
		"{\"uuid\":\"b\",\"type\":\"user\",\"message\":{\"parts\":[{\"text\":"
		"\"qwen-code.api_response\"}]}}",
		"{\"uuid\":\"c\",\"type\":\"system\",\"subtype\":\"ui_telemetry\",\"systemPayload\":"
		"{\"uiEvent\":{\"event.name\":\"qwen-code.tool_call\"}}}",
	};
	struct json_doc d;
	struct qwen_obs o;

	json_doc_init(&d);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		ASSERT_EQ(qwen_line_parse(&d, lines[i], strlen(lines[i]), &o), QWEN_LINE_OTHER);
	}
	ASSERT_EQ(qwen_line_parse(&d, "{", 1, &o), QWEN_LINE_INVALID);
	json_doc_finish(&d);
}

int
main(void)
{
	log_init("test-source-qwen", LOG_LEVEL_ERROR);
	RUN(real_sample);
	RUN(mapping);
	RUN(not_usage);
	return 0;
}
