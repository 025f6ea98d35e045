/* test-billing-parse.c: vendor billing pages into lines (collector/billing). */
#include <errno.h>
#include <string.h>

#include "billing.h"
#include "test.h"

static int
parse(enum billing_source src, const char *body, struct billing_lines *l, char *next, char *err)
{
	return billing_page_parse(src, body, strlen(body), l, next, 256, err, 256);
}

static void
test_anthropic_cost(void)
{
	const char *body =
		"{\"data\":[{\"starting_at\":\"2026-11-02T00:00:00Z\",\"ending_at\":\"2026-11-03T00:00:00Z\","
		"\"results\":[{\"currency\":\"USD\",\"amount\":\"1234.5\",\"workspace_id\":\"wrkspc_a\","
		"\"description\":null,\"cost_type\":\"tokens\",\"model\":\"claude-sonnet-4-5\","
		"\"token_type\":\"output_tokens\"},{\"currency\":\"USD\",\"amount\":\"7\","
		"\"workspace_id\":null,\"cost_type\":\"web_search\"}]}],"
		"\"has_more\":true,\"next_page\":\"page_2\"}";
	struct billing_lines l;
	char next[256], err[256];

	billing_lines_init(&l, 100);
	ASSERT_EQ(parse(BILLING_ANTHROPIC_COST, body, &l, next, err), 0);
	ASSERT_EQ(l.n, 2);
	ASSERT_STR_EQ(next, "page_2");
	ASSERT_STR_EQ(l.v[0].day, "2026-11-02");
	ASSERT_STR_EQ(l.v[0].amount, "1234.5");
	ASSERT_EQ(l.v[0].amount_scale, 2);
	ASSERT_STR_EQ(l.v[0].account, "wrkspc_a");
	ASSERT_STR_EQ(l.v[0].model, "claude-sonnet-4-5");
	ASSERT_STR_EQ(l.v[0].line_item, "tokens/output_tokens");
	ASSERT_STR_EQ(l.v[1].account, "");
	ASSERT_STR_EQ(l.v[1].line_item, "web_search");
	/* A bad page leaves the list as it was. */
	ASSERT_EQ(parse(BILLING_ANTHROPIC_COST,
			"{\"data\":[{\"starting_at\":\"2026-11-02T00:00:00Z\",\"results\":"
			"[{\"amount\":\"1\"},{\"amount\":1e999}]}],\"has_more\":false}",
			&l, next, err),
		  -EBADMSG);
	ASSERT_EQ(l.n, 2);
	ASSERT_EQ(parse(BILLING_ANTHROPIC_COST, "{\"data\":[], \"has_more\":true}", &l, next, err),
		  -EBADMSG);
	ASSERT(strstr(err, "next_page") != NULL);
	ASSERT_EQ(parse(BILLING_ANTHROPIC_COST, "{\"data\":[", &l, next, err), -EBADMSG);
	ASSERT(strstr(err, "not JSON") != NULL);
	ASSERT_EQ(parse(BILLING_ANTHROPIC_COST,
			"{\"data\":[{\"starting_at\":\"2026-13-02T00:00:00Z\",\"results\":[]}],"
			"\"has_more\":false}",
			&l, next, err),
		  -EBADMSG);
	ASSERT_EQ(parse(BILLING_ANTHROPIC_COST,
			"{\"data\":[{\"starting_at\":\"2026-11-02\",\"results\":[{\"amount\":\"1e3\"}]}],"
			"\"has_more\":false}",
			&l, next, err),
		  -EBADMSG);
	ASSERT_EQ(l.n, 2);
	billing_lines_finish(&l);
}

static void
test_anthropic_usage_and_claude_code(void)
{
	const char *usage =
		"{\"data\":[{\"starting_at\":\"2026-11-02T00:00:00Z\",\"results\":[{"
		"\"uncached_input_tokens\":10,\"cache_creation\":{\"ephemeral_5m_input_tokens\":3,"
		"\"ephemeral_1h_input_tokens\":4},\"cache_read_input_tokens\":5,\"output_tokens\":6,"
		"\"server_tool_use\":{\"web_search_requests\":0},\"workspace_id\":\"w\","
		"\"model\":\"claude-haiku-4-5\"}]}],\"has_more\":false,\"next_page\":null}";
	const char *cc =
		"{\"data\":[{\"date\":\"2026-11-02T00:00:00Z\",\"actor\":{\"type\":\"user_actor\","
		"\"email_address\":\"a@example.com\"},\"customer_type\":\"api\",\"model_breakdown\":"
		"[{\"model\":\"claude-opus-4-1\",\"tokens\":{\"input\":1,\"output\":2,\"cache_read\":3,"
		"\"cache_creation\":4},\"estimated_cost\":{\"currency\":\"USD\",\"amount\":150.25}}]},"
		"{\"date\":\"2026-11-02T00:00:00Z\",\"actor\":{\"type\":\"api_actor\",\"api_key_name\":"
		"\"ci-key\"},\"customer_type\":\"api\",\"model_breakdown\":[{\"model\":\"m\",\"tokens\":{}}]}],"
		"\"has_more\":false}";
	struct billing_lines l;
	char next[256], err[256];

	billing_lines_init(&l, 100);
	ASSERT_EQ(parse(BILLING_ANTHROPIC_USAGE, usage, &l, next, err), 0);
	ASSERT_EQ(l.n, 1);
	ASSERT_STR_EQ(next, "");
	ASSERT_EQ(l.v[0].kind, BILLING_KIND_USAGE);
	ASSERT_EQ(l.v[0].input_tokens, 10);
	ASSERT_EQ(l.v[0].cache_write_tokens, 7);
	ASSERT_EQ(l.v[0].cache_read_tokens, 5);
	ASSERT_EQ(l.v[0].output_tokens, 6);
	ASSERT_EQ(parse(BILLING_ANTHROPIC_CLAUDE_CODE, cc, &l, next, err), 0);
	ASSERT_EQ(l.n, 3);
	ASSERT_STR_EQ(l.v[1].amount, "150.25");
	ASSERT_STR_EQ(l.v[1].account, ""); /* never the e-mail address */
	ASSERT_STR_EQ(l.v[2].account, "ci-key");
	ASSERT_STR_EQ(l.v[2].amount, "0");
	billing_lines_finish(&l);
}

static void
test_openai(void)
{
	const char *costs =
		"{\"object\":\"page\",\"data\":[{\"object\":\"bucket\",\"start_time\":1793577600,"
		"\"end_time\":1793664000,\"results\":[{\"object\":\"organization.costs.result\","
		"\"amount\":{\"value\":0.06,\"currency\":\"usd\"},\"line_item\":\"gpt-5-codex, input\","
		"\"project_id\":\"proj_1\"},{\"amount\":{\"value\":12,\"currency\":\"usd\"},"
		"\"line_item\":null,\"project_id\":null}]}],\"has_more\":false,\"next_page\":null}";
	const char *usage =
		"{\"data\":[{\"start_time\":1793577600,\"results\":[{\"input_tokens\":100,"
		"\"input_cached_tokens\":40,\"output_tokens\":7,\"num_model_requests\":2,"
		"\"project_id\":\"proj_1\",\"model\":\"gpt-5-codex\"}]}],\"has_more\":true,"
		"\"next_page\":\"p2\"}";
	struct billing_lines l;
	char next[256], err[256];

	billing_lines_init(&l, 3);
	ASSERT_EQ(parse(BILLING_OPENAI_COSTS, costs, &l, next, err), 0);
	ASSERT_EQ(l.n, 2);
	ASSERT_STR_EQ(l.v[0].day, "2026-11-02");
	ASSERT_STR_EQ(l.v[0].amount, "0.06");
	ASSERT_STR_EQ(l.v[0].currency, "USD");
	ASSERT_STR_EQ(l.v[0].model, "gpt-5-codex");
	ASSERT_STR_EQ(l.v[0].account, "proj_1");
	ASSERT_STR_EQ(l.v[1].amount, "12");
	ASSERT_STR_EQ(l.v[1].model, "");
	ASSERT_EQ(parse(BILLING_OPENAI_USAGE, usage, &l, next, err), 0);
	ASSERT_STR_EQ(next, "p2");
	ASSERT_EQ(l.v[2].input_tokens, 60);
	ASSERT_EQ(l.v[2].cache_read_tokens, 40);
	ASSERT_EQ(l.v[2].requests, 2);
	/* Full: the cap holds and the page is not half-added. */
	ASSERT_EQ(parse(BILLING_OPENAI_USAGE, usage, &l, next, err), -E2BIG);
	ASSERT_EQ(l.n, 3);
	billing_lines_finish(&l);
}

static void
test_decimals(void)
{
	ASSERT(billing_decimal_ok("0"));
	ASSERT(billing_decimal_ok("-12.50"));
	ASSERT(!billing_decimal_ok("1."));
	ASSERT(!billing_decimal_ok(".5"));
	ASSERT(!billing_decimal_ok("1e5"));
	ASSERT(!billing_decimal_ok(""));
	ASSERT(billing_day_ok("2026-02-28"));
	ASSERT(!billing_day_ok("2026-00-28"));
	ASSERT(!billing_day_ok("2026-1-28"));
	ASSERT(!billing_day_ok("2026-02-29"));
	ASSERT(billing_day_ok("2028-02-29"));
	ASSERT(!billing_day_ok("2026-04-31"));
}

int
main(void)
{
	test_anthropic_cost();
	test_anthropic_usage_and_claude_code();
	test_openai();
	test_decimals();
	return 0;
}
