/*
 * test-source-amp.c: the Amp reader on synthetic threads under
 * tests/fixtures/amp (specs/more-tools.md, Amp; no real Amp could be run,
 * docs/tool-formats.md), and json_next, which it walks arrays with.
 */
#include "agent-fixture.h"
#include "source-amp.h"

#define LEDGER "T-0b9f3c1e-1111-4aaa-8bbb-000000000001"
#define MSGS "T-0b9f3c1e-2222-4aaa-8bbb-000000000002"

static const struct ledger_rec *
ev(const struct scan *s, const char *key)
{
	return fx_event(s, EVENT_TOOL_AMP, key);
}

static int64_t
ms(const char *ts)
{
	int64_t v = 0;

	ASSERT_EQ(event_ts_parse(ts, &v), 0);
	return v;
}

/* A ledger: one event per ledger event, cache from its toMessageId message; messages add none. */
TEST(ledger_thread)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_AMP, "amp");
	r = ev(&s, LEDGER "/ledger/ev-1");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 11);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 21);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_5M], 300);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 4000);
	ASSERT_EQ(r->ts_ms, ms("2026-12-01T10:00:06.000Z"));
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "claude-sonnet-4-5-20250929");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), LEDGER);
	ASSERT_EQ(s.origins[r->origin].billing, EVENT_BILLING_SUBSCRIPTION); /* the fixture's origin */
	r = ev(&s, LEDGER "/ledger/ev-2"); /* its message's usage is null: no cache counts */
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 7);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 0);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 0);
	ASSERT_NULL(ev(&s, LEDGER "/ledger/ev-3"));   /* all zero */
	ASSERT_NULL(ev(&s, LEDGER "/message/1"));     /* the ledger describes it */
	fx_done(&s);
}

/* No ledger: one event per assistant message with usage; nulls, totals, times. */
TEST(message_thread)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_AMP, "amp");
	ASSERT_EQ(s.ledger.n, 6);
	r = ev(&s, MSGS "/message/1");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 100); /* Anthropic's meaning: uncached */
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 25);
	ASSERT_EQ(r->ts_ms, ms("2026-12-01T23:59:59.999Z"));
	r = ev(&s, MSGS "/message/2"); /* no usage.timestamp: the message's; null counters 0 */
	ASSERT_NOT_NULL(r);
	ASSERT_EQ(r->ts_ms, ms("2026-12-02T00:00:01.000Z"));
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_5M], 0);
	r = ev(&s, MSGS "/message/3"); /* only totalTokens: output */
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 77);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 0);
	ASSERT_EQ(r->ts_ms, 1764633600000LL);
	ASSERT_NOT_NULL(ev(&s, MSGS "/message/4")); /* streaming: counted once settled */
	ASSERT_NULL(ev(&s, MSGS "/message/5"));     /* all zero */
	ASSERT_NULL(ev(&s, MSGS "/message/6"));     /* a counter that is a string */
	ASSERT_EQ(s.stat[SCAN_BAD_LINES], 1);
	ASSERT_EQ(s.stat[SCAN_INVALID_JSON], 1); /* T-half.json, caught half written */
	fx_done(&s);
}

static void
count(void *ctx, const struct amp_obs *o)
{
	int *n = ctx;

	*n += o != NULL ? 1 : 100;
}

/* A message still streaming is not final; not a thread is nothing. */
TEST(parse)
{
	struct json_doc d;
	int n = 0;
	const char *streaming =
		"{\"id\":\"T-1\",\"messages\":[{\"role\":\"assistant\",\"messageId\":4,\"state\":"
		"{\"type\":\"streaming\"},\"usage\":{\"inputTokens\":1,\"timestamp\":\"2026-12-02T00:00:00Z\"}}]}";

	json_doc_init(&d);
	ASSERT_EQ(amp_doc_parse(&d, streaming, strlen(streaming), count, &n), AMP_DOC_THREAD);
	ASSERT_EQ(n, 1);
	ASSERT_EQ(amp_doc_parse(&d, "[1]", 3, count, &n), AMP_DOC_OTHER);
	ASSERT_EQ(amp_doc_parse(&d, "{\"id\":\"\"}", 9, count, &n), AMP_DOC_OTHER);
	ASSERT_EQ(amp_doc_parse(&d, "{\"id\":\"T", 8, count, &n), AMP_DOC_INVALID);
	const char *no_messages = "{\"id\":\"T-2\",\"messages\":7}";
	ASSERT_EQ(amp_doc_parse(&d, no_messages, strlen(no_messages), count, &n), AMP_DOC_THREAD);
	ASSERT_EQ(n, 1);
	json_doc_finish(&d);
}

/* json_next: every element once, nested values skipped, empty and non-arrays give none. */
TEST(json_next_walks_arrays)
{
	struct json_doc d;
	const char *js = "{\"a\":[1,{\"b\":[2,3]},\"s\",[],null],\"e\":[],\"o\":{}}";
	int a, e, n = 0, t = -1;

	json_doc_init(&d);
	ASSERT_EQ(json_parse(&d, js, strlen(js)), 0);
	a = json_get(&d, 0, "a");
	while ((t = json_next(&d, a, t)) >= 0) {
		n++;
	}
	ASSERT_EQ(n, 5);
	t = json_next(&d, a, json_next(&d, a, -1));
	ASSERT_EQ(json_type(&d, t), JSON_OBJECT);
	ASSERT_EQ(json_type(&d, json_next(&d, a, t)), JSON_STRING);
	e = json_get(&d, 0, "e");
	ASSERT_EQ(json_next(&d, e, -1), -1);
	ASSERT_EQ(json_next(&d, json_get(&d, 0, "o"), -1), -1);
	ASSERT_EQ(json_next(&d, -1, -1), -1);
	json_doc_finish(&d);
}

int
main(void)
{
	log_init("test-source-amp", LOG_LEVEL_ERROR);
	RUN(ledger_thread);
	RUN(message_thread);
	RUN(parse);
	RUN(json_next_walks_arrays);
	return 0;
}
