/* test-agent-price.c: price book rules (globs, dates, empty rates, long context, fast, web). */
#include "log.h"
#include "price.h"
#include "test.h"

static const char book_csv[] =
	"model_pattern,input_per_mtok,output_per_mtok,cache_write_5m_per_mtok,"
	"cache_write_1h_per_mtok,cache_read_per_mtok,long_context_threshold_tokens,"
	"long_context_input_per_mtok,long_context_output_per_mtok,web_search_per_1k,"
	"effective_from,fast_multiplier\n"
	"claude-*,1,2,,,,,,,,,\n"
	"claude-sonnet-4-5*,3,15,3.75,6,0.3,200000,6,22.5,10,,\n"
	"claude-sonnet-4-5*,4,16,5,8,0.4,200000,8,24,10,2026-10-01,\n"
	"gpt-5.1-codex,1.25,10,,,0.125,,,,,,\n"
	"fastie,1,1,,,,,,,,,1.5\n"
	"Claude-Upper*,9,9,,,,,,,,,\n"
	"bad,x,1,,,,,,,,,\n";

static struct price_book book;

static int64_t
at(const char *s)
{
	int64_t v;
	ASSERT_EQ(event_ts_parse(s, &v), 0);
	return v;
}

static char *
cost(const char *model, const char *ts, uint64_t in, uint64_t out, uint64_t c5, uint64_t c1,
     uint64_t cr, uint64_t ws, const char *speed)
{
	static char buf[64];
	uint64_t tok[EVENT_BUCKET_MAX] = {0};
	price_pico p;
	const struct price_row *r = price_lookup(&book, model, at(ts));

	if (r == NULL) {
		return (char *)"unpriced";
	}
	tok[EVENT_INPUT] = in;
	tok[EVENT_OUTPUT] = out;
	tok[EVENT_CACHE_WRITE_5M] = c5;
	tok[EVENT_CACHE_WRITE_1H] = c1;
	tok[EVENT_CACHE_READ] = cr;
	tok[EVENT_WEB_SEARCH] = ws;
	price_cost(r, tok, speed, &p);
	price_format(p, buf, sizeof(buf), 9);
	return buf;
}

TEST(parse_reports_bad_rows)
{
	/* "bad" has a non-numeric rate: one error, the rest kept */
	ASSERT_EQ(price_book_parse(book_csv, sizeof(book_csv) - 1, "book.csv", &book), 1);
	ASSERT_EQ(book.n, 6);
}

TEST(longest_glob_wins_case_sensitive)
{
	const char *T = "2026-09-01T00:00:00Z";
	/* claude-sonnet-4-5* beats claude-* */
	ASSERT_STR_EQ(cost("claude-sonnet-4-5-20250929", T, 100000, 0, 0, 0, 0, 0, ""),
		      "0.300000000");
	ASSERT_STR_EQ(cost("claude-haiku-9", T, 1000000, 0, 0, 0, 0, 0, ""), "1.000000000");
	ASSERT_STR_EQ(cost("claude-upper-1", T, 1000000, 0, 0, 0, 0, 0, ""), "1.000000000");
	ASSERT_STR_EQ(cost("mystery", T, 1, 0, 0, 0, 0, 0, ""), "unpriced");
	ASSERT_STR_EQ(cost("gpt-5.1-codex-max", T, 1, 0, 0, 0, 0, 0, ""), "unpriced");
}

TEST(effective_dates)
{
	ASSERT_STR_EQ(cost("claude-sonnet-4-5", "2026-09-30T23:59:59Z", 100000, 0, 0, 0, 0, 0, ""),
		      "0.300000000");
	ASSERT_STR_EQ(cost("claude-sonnet-4-5", "2026-10-01T00:00:00Z", 100000, 0, 0, 0, 0, 0, ""),
		      "0.400000000");
}

TEST(empty_cache_rate_is_input_rate)
{
	const char *T = "2026-09-01T00:00:00Z";
	/* claude-*: no cache rates: 5m, 1h and reads at the input rate 1 */
	ASSERT_STR_EQ(cost("claude-x", T, 0, 0, 1000000, 1000000, 1000000, 0, ""), "3.000000000");
	/* Codex: input uncached at 1.25, cached at 0.125 */
	ASSERT_STR_EQ(cost("gpt-5.1-codex", T, 8000, 500, 0, 0, 2000, 0, ""), "0.015250000");
}

TEST(long_context_whole_request)
{
	const char *T = "2026-09-01T00:00:00Z";
	/* exactly at the threshold: base rates */
	ASSERT_STR_EQ(cost("claude-sonnet-4-5", T, 100000, 1000, 0, 0, 100000, 0, ""),
		      "0.345000000");
	/* one over: every bucket at long-context rates, cache rates doubled like input */
	ASSERT_STR_EQ(cost("claude-sonnet-4-5", T, 100000, 1000, 1, 0, 100000, 0, ""),
		      "0.682507500");
	/* 1-hour writes: own rate 6, x2 in long context = 12 */
	ASSERT_STR_EQ(cost("claude-sonnet-4-5", T, 0, 0, 0, 250000, 0, 0, ""), "3.000000000");
	ASSERT_STR_EQ(cost("claude-sonnet-4-5", T, 0, 0, 0, 200000, 0, 0, ""), "1.200000000");
}

TEST(fast_and_web_search)
{
	const char *T = "2026-09-01T00:00:00Z";
	ASSERT_STR_EQ(cost("fastie", T, 1000000, 1000000, 0, 0, 0, 0, "fast"), "3.000000000");
	ASSERT_STR_EQ(cost("fastie", T, 1000000, 1000000, 0, 0, 0, 0, "standard"), "2.000000000");
	/* $10 per 1,000 searches, not scaled by anything */
	ASSERT_STR_EQ(cost("claude-sonnet-4-5", T, 0, 0, 0, 0, 0, 3, ""), "0.030000000");
}

TEST(raw_names_only_as_the_database)
{
	/* The database prices the raw name by glob and nothing else; so does
	 * the local estimate, or the two would disagree for the same event. */
	ASSERT_STR_EQ(cost("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "2026-09-01T00:00:00Z",
			   100000, 0, 0, 0, 0, 0, ""),
		      "unpriced");
	/* Suffixes still meet a prefix glob: "claude-sonnet-4-5*". */
	ASSERT_STR_EQ(cost("claude-sonnet-4-5@20250929", "2026-09-01T00:00:00Z", 100000, 0, 0, 0, 0,
			   0, ""),
		      "0.300000000");
	ASSERT_STR_EQ(cost("claude-sonnet-4-5[1m]", "2026-09-01T00:00:00Z", 100000, 0, 0, 0, 0, 0,
			   ""),
		      "0.300000000");
}

TEST(builtin_book_loads)
{
	struct price_book b;

	ASSERT_EQ(price_book_builtin(&b), 0);
	ASSERT_GT(b.n, 50);
	ASSERT_NOT_NULL(price_lookup(&b, "claude-sonnet-4-5-20250929", 0));
	price_book_finish(&b);
}

int
main(void)
{
	log_init("test-agent-price", LOG_LEVEL_ERROR);
	RUN(parse_reports_bad_rows);
	RUN(longest_glob_wins_case_sensitive);
	RUN(effective_dates);
	RUN(empty_cache_rate_is_input_rate);
	RUN(long_context_whole_request);
	RUN(fast_and_web_search);
	RUN(raw_names_only_as_the_database);
	RUN(builtin_book_loads);
	price_book_finish(&book);
	return 0;
}
