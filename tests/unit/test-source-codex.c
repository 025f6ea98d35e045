/*
 * test-source-codex.c: the Codex reader and the Decisions on Codex events,
 * each on its own fixture under tests/fixtures/codex/ (spec section 7
 * pitfalls 4, 5, 7 and section 3).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "agent-fixture.h"
#include "source-codex.h"

static const char *const TS1 = "2026-09-15T08:30:31.020Z";
static const char *const TS2 = "2026-09-15T08:31:12.400Z";

static const struct ledger_rec *
ev(const struct scan *s, const char *ts, uint64_t in, uint64_t cached, uint64_t out, uint64_t rea)
{
	char key[256];

	am_codex_dedup_key(ts, in, cached, out, rea, in + out, key, sizeof(key));
	return fx_event(s, EVENT_TOOL_CODEX, key);
}

/* The spec's example: deltas of totals, input - cached, re-emit and info:null count zero. */
TEST(deltas_reemit_info_null)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/deltas");
	ASSERT_EQ(s.ledger.n, 2);
	r = ev(&s, TS1, 10000, 2000, 500, 300);
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 8000);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 2000);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 500);
	ASSERT_UINT_EQ(r->tok[EVENT_REASONING], 300);
	r = ev(&s, TS2, 22000, 11000, 900, 500);
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 3000); /* 12,000 of which 9,000 cached */
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 9000);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 400); /* reasoning is inside output, never added */
	ASSERT_UINT_EQ(r->tok[EVENT_REASONING], 200);
	ASSERT_EQ(s.stat[SCAN_CODEX_UNCHANGED], 1);
	ASSERT_EQ(s.stat[SCAN_CODEX_INFO_NULL], 1);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gpt-5.1-codex");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), "0199b2c4-7e10-7a31-9d2e-5c41f0a8e901");
	/* project label: keyed hash of the remote without credentials, never the URL */
	ASSERT_EQ(strlen(ledger_str(&s.ledger, r->project)), 32);
	int64_t ms;
	ASSERT_EQ(event_ts_parse(TS2, &ms), 0);
	ASSERT_EQ(r->ts_ms, ms);
	fx_done(&s);
}

/* The model is the latest turn_context's. */
TEST(model_from_latest_turn_context)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/model-change");
	ASSERT_STR_EQ(ledger_str(&s.ledger, ev(&s, TS1, 10000, 2000, 500, 300)->model),
		      "gpt-5.1-codex");
	ASSERT_STR_EQ(ledger_str(&s.ledger, ev(&s, TS2, 22000, 11000, 900, 500)->model), "gpt-5.5");
	fx_done(&s);
}

/* .jsonl.zst rollouts are read through zstd. */
TEST(zst_rollout)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/zst");
	ASSERT_EQ(s.ledger.n, 2);
	ASSERT_UINT_EQ(ev(&s, TS2, 22000, 11000, 900, 500)->tok[EVENT_INPUT], 3000);
	fx_done(&s);
}

/* One rollout in sessions/, archived_sessions/ and as .zst counts once. */
TEST(rollout_in_several_places)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/copies");
	ASSERT_EQ(s.stat[SCAN_FILES], 3);
	ASSERT_EQ(s.ledger.n, 2);
	ASSERT_UINT_EQ(ev(&s, TS2, 22000, 11000, 900, 500)->tok[EVENT_CACHE_READ], 9000);
	fx_done(&s);
}

/* A forked session replays the parent's history: counted once; its own call counts. */
TEST(forked_replay)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/fork");
	ASSERT_EQ(s.ledger.n, 3);
	r = ev(&s, "2026-09-15T08:41:00.000Z", 24000, 11500, 1000, 520);
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 1500);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 500);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), "0199b2c4-7e10-7a31-9d2e-5c41f0a8e902");
	fx_done(&s);
}

/* A thread_spawn sub-agent's replay burst sets the baseline and is not counted. */
TEST(thread_spawn_replay)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/spawn");
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_EQ(s.stat[SCAN_CODEX_REPLAY], 1);
	r = ev(&s, "2026-09-15T08:35:20.000Z", 25000, 12000, 1100, 550);
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 2000);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 1000);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 200);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gpt-5.1-codex-mini");
	fx_done(&s);
}

/* Totals going backwards are a reset: the per-call usage is the delta. */
TEST(totals_reset)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/reset");
	ASSERT_EQ(s.ledger.n, 2);
	r = ev(&s, "2026-09-15T08:32:00.000Z", 3000, 1000, 50, 10);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 2000);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 50);
	fx_done(&s);
}

/* Without a turn_context the model is unknown and the event is flagged. */
TEST(no_turn_context)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/no-model");
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_STR_EQ(ledger_str(&s.ledger, ev(&s, TS1, 10000, 2000, 500, 300)->model), "");
	ASSERT_EQ(s.stat[SCAN_CODEX_NO_MODEL], 1);
	fx_done(&s);
}

/* No total_token_usage: last_token_usage is the event. */
TEST(last_usage_only)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/last-only");
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_UINT_EQ(ev(&s, TS1, 10000, 2000, 500, 300)->tok[EVENT_INPUT], 8000);
	fx_done(&s);
}

/* Text inside strings is never a token_count or turn_context. */
TEST(text_inside_strings)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/text-in-strings");
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_STR_EQ(ledger_str(&s.ledger, ev(&s, TS1, 10000, 2000, 500, 300)->model),
		      "gpt-5.1-codex");
	ASSERT_EQ(s.stat[SCAN_INVALID_JSON], 0);
	fx_done(&s);
}

/* A corrupt .zst is counted and warned about; the other rollout is still read. */
TEST(corrupt_zst)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/corrupt-zst");
	ASSERT_EQ(s.stat[SCAN_CORRUPT_ZSTD], 1);
	ASSERT_EQ(s.ledger.n, 2);
	fx_done(&s);
}

/*
 * Codex 0.16x: cache_write_input_tokens is a part of input_tokens (a cache
 * write bucket, clamped to the uncached input); the service tier is the
 * latest thread_settings_applied's (a resume without one is standard);
 * priority only for a model Codex sends it for (not gpt-5.4).
 */
/* The event of these totals: its uncached input, cache writes, cache reads and tier. */
static void
expect_call(const struct scan *s, const char *ts, const uint64_t total[4], uint64_t in,
	    uint64_t written, uint64_t cached, const char *tier)
{
	const struct ledger_rec *r = ev(s, ts, total[0], total[1], total[2], total[3]);

	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], in);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_5M], written);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_1H], 0);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], cached);
	ASSERT_STR_EQ(ledger_str(&s->ledger, r->tier), tier);
}

TEST(tier_and_cache_writes)
{
	struct scan s;
	static const uint64_t t1[4] = { 10000, 2000, 500, 300 }, t2[4] = { 22000, 11000, 900, 500 },
			      t3[4] = { 25000, 11000, 1000, 500 }, t4[4] = { 26000, 11500, 1100, 500 },
			      t5[4] = { 27000, 11500, 1200, 500 };

	fx_scan(&s, EVENT_TOOL_CODEX, "codex/tier-cache-write");
	ASSERT_EQ(s.ledger.n, 5);
	expect_call(&s, TS1, t1, 6500, 1500, 2000, "priority");
	expect_call(&s, TS2, t2, 2000, 1000, 9000, "flex"); /* 12,000 - 9,000 - 1,000 */
	expect_call(&s, "2026-09-15T08:32:10.000Z", t3, 1500, 1500, 0, ""); /* no tier */
	/* 2,000 written of 500 uncached: clamped */
	expect_call(&s, "2026-09-15T08:32:20.000Z", t4, 0, 500, 500, "");
	/* priority configured, but Codex sends it for gpt-5.4 as standard */
	expect_call(&s, "2026-09-15T08:33:10.000Z", t5, 1000, 0, 0, "");
	fx_done(&s);
}

/* The tier and the cache-write total survive saved state; a state saved before has neither. */
TEST(tier_cache_write_cursor)
{
	struct scan_cursor cur, back;
	struct codex_file *cx = (struct codex_file *)(void *)cur.state;
	const struct codex_file *bx = (const struct codex_file *)(const void *)back.state;
	struct blob_w w = { 0 };
	struct blob_r r;

	memset(&cur, 0, sizeof(cur));
	memset(&back, 0, sizeof(back));
	cx->has_prev = true;
	cx->prev[CODEX_IN] = 22000;
	cx->prev_cache_write = 2500;
	cx->tier = CODEX_TIER_FLEX;
	source_codex.cursor_encode(&cur, &w);
	ASSERT(!w.oom);
	r = (struct blob_r){ w.p, w.len, 0, false };
	source_codex.cursor_decode(&back, &r);
	ASSERT(!r.bad && r.pos == r.len);
	ASSERT_UINT_EQ(bx->prev_cache_write, 2500);
	ASSERT_EQ(bx->tier, CODEX_TIER_FLEX);
	ASSERT(!bx->cw_unknown);
	/* the same state as an older agent wrote it: no flag, nothing after the label */
	w.p[0] &= (uint8_t)~8u;
	r = (struct blob_r){ w.p, w.len - 12, 0, false };
	source_codex.cursor_decode(&back, &r);
	ASSERT(!r.bad && r.pos == r.len);
	ASSERT_UINT_EQ(bx->prev_cache_write, 0);
	ASSERT_EQ(bx->tier, CODEX_TIER_STANDARD);
	ASSERT(bx->cw_unknown);
	free(w.p);
}

/* With no cache-write baseline (an older state), the call's own count is its writes. */
TEST(cache_write_without_baseline)
{
	struct json_doc doc;
	struct codex_file f;
	struct codex_obs o;
	const char *line =
		"{\"timestamp\":\"2026-09-15T08:32:10.000Z\",\"type\":\"event_msg\",\"payload\":"
		"{\"type\":\"token_count\",\"info\":{\"total_token_usage\":{\"input_tokens\":25000,"
		"\"cached_input_tokens\":11000,\"cache_write_input_tokens\":4000,\"output_tokens\":1000,"
		"\"reasoning_output_tokens\":500,\"total_tokens\":26000},\"last_token_usage\":"
		"{\"input_tokens\":3000,\"cached_input_tokens\":0,\"cache_write_input_tokens\":1500,"
		"\"output_tokens\":100,\"reasoning_output_tokens\":0,\"total_tokens\":3100}}}}";

	memset(&f, 0, sizeof(f));
	f.has_prev = true;
	f.prev[CODEX_IN] = 22000;
	f.prev[CODEX_CACHED] = 11000;
	f.prev[CODEX_OUT] = 900;
	f.prev[CODEX_REASONING] = 500;
	f.prev[CODEX_TOTAL] = 22900;
	f.cw_unknown = true;
	json_doc_init(&doc);
	ASSERT_EQ(codex_line_parse(&doc, line, strlen(line), &f, &o), CODEX_LINE_EVENT);
	ASSERT_UINT_EQ(o.tok[EVENT_CACHE_WRITE_5M], 1500); /* not 4,000 since the start */
	ASSERT_UINT_EQ(o.tok[EVENT_INPUT], 1500);
	ASSERT(!f.cw_unknown);
	ASSERT_UINT_EQ(f.prev_cache_write, 4000);
	json_doc_finish(&doc);
}

int
main(void)
{
	log_init("test-source-codex", LOG_LEVEL_ERROR);
	RUN(deltas_reemit_info_null);
	RUN(model_from_latest_turn_context);
	RUN(zst_rollout);
	RUN(rollout_in_several_places);
	RUN(forked_replay);
	RUN(thread_spawn_replay);
	RUN(totals_reset);
	RUN(no_turn_context);
	RUN(last_usage_only);
	RUN(text_inside_strings);
	RUN(corrupt_zst);
	RUN(tier_and_cache_writes);
	RUN(tier_cache_write_cursor);
	RUN(cache_write_without_baseline);
	return 0;
}
