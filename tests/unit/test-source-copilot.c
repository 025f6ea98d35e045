/*
 * test-source-copilot.c: the GitHub Copilot CLI reader, on what Copilot CLI
 * 1.0.102 wrote against the loopback stand-ins (tests/fixtures/copilot-cli,
 * docs/tool-formats.md) and on single lines for the rules the real run
 * cannot show (nulls, zero usage, fallback keys, bad counters).
 */
#include "agent-fixture.h"
#include "source-copilot.h"

#define ROOT "copilot-cli/.copilot"

static const struct ledger_rec *
call(const struct scan *s, const char *id)
{
	char key[256];

	snprintf(key, sizeof(key), "call/%s", id);
	return fx_event(s, EVENT_TOOL_COPILOT, key);
}

/* Every usage record of the real run is one event; inputTokens holds the cached tokens. */
TEST(real_run_openai)
{
	struct scan s;
	const struct ledger_rec *r;
	int64_t ms;

	fx_scan(&s, EVENT_TOOL_COPILOT, ROOT);
	ASSERT_EQ(s.ledger.n, 7);
	r = call(&s, "chatcmpl-amrt-0001");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 2200); /* 3001 with 801 cached */
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 801);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 91);
	ASSERT_UINT_EQ(r->tok[EVENT_REASONING], 31);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_5M], 0);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gpt-5.2");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), "c805dd72-bd7b-47a7-b3c6-41e9d1c09aa6");
	ASSERT_EQ(strlen(ledger_str(&s.ledger, r->project)), 32); /* keyed hash of the cwd */
	ASSERT_EQ(event_ts_parse("2026-12-04T13:09:22.343Z", &ms), 0);
	ASSERT_EQ(r->ts_ms, ms);
	/* BYOK: the user's own key, whatever the root's mode */
	ASSERT_EQ(s.origins[r->origin].billing, EVENT_BILLING_API);
	ASSERT_STR_EQ(s.origins[r->origin].user, "dana");
	/* --continue appended to the same file, after session.resume */
	r = call(&s, "chatcmpl-amrt-0003");
	ASSERT_NOT_NULL(r);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), "c805dd72-bd7b-47a7-b3c6-41e9d1c09aa6");
	ASSERT_EQ(s.stat[SCAN_INVALID_JSON] + s.stat[SCAN_BAD_LINES], 0);
	fx_done(&s);
}

/* A sub-agent's calls are in its parent's file and belong to the parent's session. */
TEST(real_run_sub_agent)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_COPILOT, ROOT);
	r = call(&s, "chatcmpl-amrt-0005");
	ASSERT_NOT_NULL(r);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), "46428a8b-4daa-4aa3-832d-67b9d2b832bd");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "claude-sonnet-4.5");
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 2200);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 95);
	fx_done(&s);
}

/* The anthropic provider type: inputTokens = uncached + reads + writes; writes are 5-minute. */
TEST(real_run_cache_writes)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_COPILOT, ROOT);
	r = call(&s, "msg_amrt_0007_afdefeff");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 1007); /* 4258 - 3007 - 244 */
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 3007);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_5M], 244);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_1H], 0);
	ASSERT_UINT_EQ(r->tok[EVENT_REASONING], 0); /* no reasoningTokens field */
	fx_done(&s);
}

static enum copilot_line
parse(const char *line, struct copilot_obs *o)
{
	struct json_doc d;
	enum copilot_line k;

	json_doc_init(&d);
	k = copilot_line_parse(&d, line, strlen(line), "sess-1", o);
	json_doc_finish(&d);
	return k;
}

#define REC(usage, extra)                                                                        \
	"{\"type\":\"session.usage_record\",\"id\":\"rec-9\",\"timestamp\":\"2026-12-01T23:59:59.999Z\"" \
	extra ",\"data\":{\"usage\":" usage "}}"

/* null is absent: a null counter counts 0, a null accounting falls back to apiCallId. */
TEST(nulls_and_fallback_keys)
{
	struct copilot_obs o;

	ASSERT_EQ(parse(REC("{\"model\":\"gpt-5\",\"inputTokens\":100,\"outputTokens\":7,"
			    "\"cacheReadTokens\":null,\"reasoningTokens\":null,\"isByok\":null,"
			    "\"accounting\":null,\"apiCallId\":\"chatcmpl-x\"}", ""), &o),
		  COPILOT_LINE_USAGE);
	ASSERT_STR_EQ(o.key, "call/chatcmpl-x");
	ASSERT_UINT_EQ(o.tok[EVENT_INPUT], 100);
	ASSERT_UINT_EQ(o.tok[EVENT_REASONING], 0);
	ASSERT_EQ(o.byok, COPILOT_BYOK_ABSENT);
	ASSERT(!o.sub_agent);
	ASSERT_EQ(parse(REC("{\"model\":\"gpt-5\",\"inputTokens\":100,\"outputTokens\":7,"
			    "\"isByok\":false,\"accounting\":{\"usageId\":\"u-1\"},\"apiCallId\":\"c-1\"}",
			    ",\"agentId\":\"a-1\""), &o),
		  COPILOT_LINE_USAGE);
	ASSERT_STR_EQ(o.key, "call/u-1");
	ASSERT_EQ(o.byok, COPILOT_BYOK_NO);
	ASSERT(o.sub_agent);
	/* no response id at all: the record's own id within its session */
	ASSERT_EQ(parse(REC("{\"model\":\"m\",\"inputTokens\":5,\"outputTokens\":1}", ""), &o),
		  COPILOT_LINE_USAGE);
	ASSERT_STR_EQ(o.key, "record/sess-1/rec-9");
	/* reads and writes larger than inputTokens: input clamps at 0 */
	ASSERT_EQ(parse(REC("{\"inputTokens\":5,\"cacheReadTokens\":9,\"outputTokens\":1}", ""), &o),
		  COPILOT_LINE_USAGE);
	ASSERT_UINT_EQ(o.tok[EVENT_INPUT], 0);
	ASSERT_STR_EQ(o.model, "");
}

/* Not events: null or all-zero usage; bad: wrong counter types, no time, huge values. */
TEST(not_usage_and_bad)
{
	struct copilot_obs o;

	ASSERT_EQ(parse(REC("null", ""), &o), COPILOT_LINE_ZERO);
	ASSERT_EQ(parse(REC("{\"inputTokens\":0,\"outputTokens\":0,\"apiCallId\":\"z\"}", ""), &o),
		  COPILOT_LINE_ZERO);
	ASSERT_EQ(parse(REC("{\"inputTokens\":\"12\",\"apiCallId\":\"z\"}", ""), &o), COPILOT_LINE_BAD);
	ASSERT_EQ(parse(REC("{\"inputTokens\":-1,\"apiCallId\":\"z\"}", ""), &o), COPILOT_LINE_BAD);
	ASSERT_EQ(parse(REC("{\"inputTokens\":99999999999,\"apiCallId\":\"z\"}", ""), &o),
		  COPILOT_LINE_BAD);
	ASSERT_EQ(parse(REC("7", ""), &o), COPILOT_LINE_BAD);
	ASSERT_EQ(parse("{\"type\":\"session.usage_record\",\"data\":{\"usage\":{\"inputTokens\":3,"
			"\"apiCallId\":\"z\"}}}", &o),
		  COPILOT_LINE_BAD); /* no timestamp */
	ASSERT_EQ(parse("{\"type\":\"session.usage_record\",\"timestamp\":\"2026-12-01T00:00:00Z\","
			"\"data\":{\"usage\":{\"inputTokens\":3}}}", &o),
		  COPILOT_LINE_BAD); /* no key at all */
	ASSERT_EQ(parse("{\"type\":\"session.usage_", &o), COPILOT_LINE_INVALID);
	ASSERT_EQ(parse("[1,2]", &o), COPILOT_LINE_OTHER);
	/* usage-like text inside a string is not a record */
	ASSERT_EQ(parse("{\"type\":\"user.message\",\"data\":{\"content\":"
			"\"{\\\"type\\\":\\\"session.usage_record\\\"}\"}}", &o),
		  COPILOT_LINE_OTHER);
}

/* session.start and session.resume give the session and the working directory. */
TEST(meta_lines)
{
	struct copilot_obs o;

	ASSERT_EQ(parse("{\"type\":\"session.start\",\"data\":{\"sessionId\":\"s-2\","
			"\"context\":{\"cwd\":\"/home/d/\\u00dcber\"}}}", &o),
		  COPILOT_LINE_META);
	ASSERT_STR_EQ(o.session, "s-2");
	ASSERT_STR_EQ(o.cwd, "/home/d/\xc3\x9c" "ber");
	ASSERT_EQ(parse("{\"type\":\"session.resume\",\"data\":{\"context\":null}}", &o),
		  COPILOT_LINE_META);
	ASSERT_STR_EQ(o.session, "");
	ASSERT_STR_EQ(o.cwd, "");
	ASSERT(copilot_line_wanted("\"session.resume\"", 16));
	ASSERT(!copilot_line_wanted("{\"type\":\"assistant.message\"}", 28));
}

int
main(void)
{
	log_init("test-source-copilot", LOG_LEVEL_ERROR);
	RUN(real_run_openai);
	RUN(real_run_sub_agent);
	RUN(real_run_cache_writes);
	RUN(nulls_and_fallback_keys);
	RUN(not_usage_and_bad);
	RUN(meta_lines);
	return 0;
}
