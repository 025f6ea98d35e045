/*
 * test-source-gemini.c: the Gemini CLI reader (specs/more-tools.md,
 * "Gemini CLI"; docs/tool-formats.md): the sample files Gemini CLI 0.61.0
 * wrote (tests/fixtures/gemini-cli/.gemini) and one file with every rule
 * (tests/fixtures/gemini-cli/rules).
 */
#include "agent-fixture.h"
#include "source-gemini.h"

#define SID "aaaa1111-0000-4000-8000-000000000001"

static const struct ledger_rec *
ev(const struct scan *s, const char *key)
{
	return fx_event(s, EVENT_TOOL_GEMINI, key);
}

/* Copies merge; tokens null, all-zero and torn lines are no event; checkpoints count. */
TEST(rules)
{
	struct scan s;
	const struct ledger_rec *r;
	int64_t ms;

	fx_scan(&s, EVENT_TOOL_GEMINI, "gemini-cli/rules/.gemini");
	ASSERT_EQ(s.ledger.n, 3); /* g1, g2 and g5 (only in a checkpoint) */
	r = ev(&s, SID "/g1");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 607); /* 1000 - 400 cached + 7 tool */
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 400);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 70); /* thoughts are billed as output */
	ASSERT_UINT_EQ(r->tok[EVENT_REASONING], 20);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gemini-2.5-pro");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), SID);
	ASSERT_EQ(event_ts_parse("2026-09-14T23:59:59.900Z", &ms), 0);
	ASSERT_EQ(r->ts_ms, ms);
	/* no model: the previous gemini message's; thoughts and tool missing count 0 */
	r = ev(&s, SID "/g2");
	ASSERT_NOT_NULL(r);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gemini-2.5-pro");
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 2000);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 60);
	/* the resume's header line does not change the file's session */
	r = ev(&s, SID "/g5");
	ASSERT_NOT_NULL(r);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gemini-3-pro-preview");
	ASSERT_EQ(s.stat[SCAN_INVALID_JSON], 1);
	ASSERT_NULL(ev(&s, SID "/g6")); /* the torn last line */
	fx_done(&s);
}

/* What Gemini CLI 0.61.0 wrote: 7 calls in three sessions and a sub-agent file. */
TEST(real_sample)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_GEMINI, "gemini-cli/.gemini");
	ASSERT_EQ(s.ledger.n, 7);
	/* appended twice (tokens, then toolCalls): one event */
	r = ev(&s, "e9f68677-d8a8-46b3-811a-aced167a95ae/1538f50a-3610-4161-92df-c9b78fba2d57");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 1314); /* 2004 - 704 cached + 14 tool */
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 78);  /* 54 + 24 thoughts */
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 704);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gemini-2.5-flash");
	fx_done(&s);
}

static void
count(void *ctx, const struct gemini_obs *o)
{
	(void)o;
	(*(int *)ctx)++;
}

/* Line by line: a checkpoint holds several calls; bad tokens make the line bad. */
TEST(lines)
{
	struct json_doc d;
	struct gemini_file f;
	int n = 0;
	static const char cp[] =
		"{\"$set\":{\"messages\":[{\"id\":\"a\",\"timestamp\":\"2026-09-14T10:00:00Z\","
		"\"type\":\"gemini\",\"tokens\":{\"input\":3,\"output\":1}},{\"id\":\"b\","
		"\"timestamp\":\"2026-09-14T10:00:01Z\",\"type\":\"gemini\",\"tokens\":"
		"{\"input\":4,\"output\":1}}]}}";
	static const char bad[] = "{\"id\":\"c\",\"timestamp\":\"2026-09-14T10:00:00Z\","
				  "\"type\":\"gemini\",\"tokens\":{\"input\":-3}}";
	static const char notime[] = "{\"id\":\"c\",\"type\":\"gemini\",\"tokens\":{\"input\":3}}";

	json_doc_init(&d);
	memset(&f, 0, sizeof(f));
	ASSERT_EQ(gemini_line_parse(&d, "{\"sessionId\":\"s\"}", 17, &f, count, &n),
		  GEMINI_LINE_HEADER);
	ASSERT_STR_EQ(f.session, "s");
	ASSERT_EQ(gemini_line_parse(&d, "{\"sessionId\":\"t\"}", 17, &f, count, &n),
		  GEMINI_LINE_OTHER);
	ASSERT_STR_EQ(f.session, "s");
	ASSERT_EQ(gemini_line_parse(&d, cp, sizeof(cp) - 1, &f, count, &n), GEMINI_LINE_USAGE);
	ASSERT_EQ(n, 2);
	ASSERT_EQ(gemini_line_parse(&d, bad, sizeof(bad) - 1, &f, count, &n), GEMINI_LINE_BAD);
	ASSERT_EQ(gemini_line_parse(&d, notime, sizeof(notime) - 1, &f, count, &n),
		  GEMINI_LINE_BAD);
	ASSERT_EQ(gemini_line_parse(&d, "{\"$rewindTo\":\"a\"}", 17, &f, count, &n),
		  GEMINI_LINE_OTHER);
	ASSERT_EQ(gemini_line_parse(&d, "{\"id\":", 6, &f, count, &n), GEMINI_LINE_INVALID);
	ASSERT_EQ(n, 2);
	json_doc_finish(&d);
}

/* A legacy document: read whole, its calls keyed like the JSONL's; half written is INVALID. */
TEST(legacy_doc)
{
	struct json_doc d;
	struct gemini_file f;
	int n = 0;
	static const char doc[] =
		"{\n  \"sessionId\": \"s\",\n  \"summary\": null,\n  \"messages\": [\n"
		"    {\"id\": \"u\", \"type\": \"user\", \"content\": \"\u00fc \\\"gemini\\\"\"},\n"
		"    {\"id\": \"a\", \"timestamp\": \"2026-09-14T10:00:00Z\", \"type\": \"gemini\","
		" \"model\": \"gemini-2.5-pro\", \"tokens\": {\"input\": 3, \"output\": 1}},\n"
		"    {\"id\": \"b\", \"timestamp\": \"2026-09-14T10:00:01Z\", \"type\": \"gemini\","
		" \"tokens\": null}\n  ]\n}";
	static const char none[] = "{\"sessionId\":\"s\",\"messages\":[]}";

	json_doc_init(&d);
	memset(&f, 0, sizeof(f));
	snprintf(f.session, sizeof(f.session), "stale");
	ASSERT_EQ(gemini_doc_parse(&d, doc, sizeof(doc) - 1, &f, count, &n), GEMINI_LINE_USAGE);
	ASSERT_EQ(n, 1);
	ASSERT_STR_EQ(f.session, "s");
	ASSERT_EQ(gemini_doc_parse(&d, doc, sizeof(doc) - 20, &f, count, &n), GEMINI_LINE_INVALID);
	ASSERT_EQ(gemini_doc_parse(&d, none, sizeof(none) - 1, &f, count, &n), GEMINI_LINE_HEADER);
	ASSERT_EQ(gemini_doc_parse(&d, "[1]", 3, &f, count, &n), GEMINI_LINE_OTHER);
	ASSERT_EQ(n, 1);
	json_doc_finish(&d);
}

/* A legacy .json and the .jsonl a resume wrote beside it: shared messages count once. */
TEST(legacy_pair)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_GEMINI, "gemini-cli/legacy/.gemini");
	ASSERT_EQ(s.ledger.n, 3); /* l1 (both files), l2 (tokens only in the .jsonl copy), l3 */
	r = ev(&s, "bbbb2222-0000-4000-8000-000000000002/l1");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 90); /* 100 - 10 cached */
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gemini-2.5-flash");
	r = ev(&s, "bbbb2222-0000-4000-8000-000000000002/l2");
	ASSERT_NOT_NULL(r);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gemini-2.5-flash"); /* the previous one's */
	ASSERT_NOT_NULL(ev(&s, "bbbb2222-0000-4000-8000-000000000002/l3"));
	fx_done(&s);
}

int
main(void)
{
	log_init("test-source-gemini", LOG_LEVEL_ERROR);
	RUN(rules);
	RUN(real_sample);
	RUN(lines);
	RUN(legacy_doc);
	RUN(legacy_pair);
	return 0;
}
