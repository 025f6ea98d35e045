/*
 * test-source-opencode.c: the OpenCode reader on the database the real
 * opencode-ai 1.18.33 wrote (tests/fixtures/opencode), the message mapping
 * case by case, and the watermark: a second read of a growing database
 * reads only the new rows and the rows still in progress, never all of it.
 */
#include <sqlite3.h>
#include <stdlib.h>

#include "agent-fixture.h"
#include "source-opencode.h"

#define FIXTURE "opencode/.local/share/opencode"

TEST(real_database)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_OPENCODE, FIXTURE);
	r = fx_event(&s, EVENT_TOOL_OPENCODE, "msg_2411bbfd90010LSCGBzJqAb1Ex");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 2200);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 92); /* 60 + 32 reasoning, stored apart */
	ASSERT_UINT_EQ(r->tok[EVENT_REASONING], 32);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 802);
	ASSERT_EQ(r->ts_ms, 1796388667353LL);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "qwen3-coder");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), "ses_dbee44d17ffe4cBOr6MhL4zOYf");
	ASSERT_NULL(fx_event(&s, EVENT_TOOL_OPENCODE, "msg_2411bb505001fpGklBKCXNlDQj")); /* user */
	ASSERT_EQ(s.ledger.n, 6); /* the assistant rows, all with tokens */
	fx_done(&s);
}

static enum opencode_msg
parse(const char *js, const struct opencode_row *row, struct opencode_obs *o)
{
	struct json_doc d;
	enum opencode_msg k;

	json_doc_init(&d);
	k = opencode_msg_parse(&d, js, strlen(js), row, o);
	json_doc_finish(&d);
	return k;
}

TEST(mapping)
{
	const struct opencode_row v1 = {"msg_a", "ses_a", NULL, 5000}, v2 = {"msg_b", "ses_b", "assistant", 6000};
	struct opencode_obs o;

	/* 1.x: reasoning apart from output */
	ASSERT_EQ(parse("{\"role\":\"assistant\",\"modelID\":\"m\",\"providerID\":\"anthropic\","
			"\"time\":{\"created\":1000,\"completed\":2000},\"tokens\":{\"total\":115,"
			"\"input\":10,\"output\":20,\"reasoning\":5,\"cache\":{\"read\":70,\"write\":10}}}",
			&v1, &o),
		  OPENCODE_MSG_USAGE);
	ASSERT_UINT_EQ(o.tok[EVENT_OUTPUT], 25);
	ASSERT_UINT_EQ(o.tok[EVENT_CACHE_WRITE_5M], 10);
	ASSERT_EQ(o.ts_ms, 1000);
	ASSERT(o.final);
	ASSERT_STR_EQ(o.id, "msg_a");
	/* an older build: total = input + output + cache, so output holds reasoning */
	ASSERT_EQ(parse("{\"role\":\"assistant\",\"time\":{},\"tokens\":{\"total\":110,"
			"\"input\":10,\"output\":20,\"reasoning\":5,\"cache\":{\"read\":70,\"write\":10}}}",
			&v1, &o),
		  OPENCODE_MSG_USAGE);
	ASSERT_UINT_EQ(o.tok[EVENT_OUTPUT], 20);
	ASSERT_EQ(o.ts_ms, 5000); /* no time.created: the row's */
	ASSERT(!o.final);
	/* 2.x: role in the type column, model {id, providerID}; nulls are zero */
	ASSERT_EQ(parse("{\"model\":{\"id\":\"gpt-5.1-codex\",\"providerID\":\"opencode\"},"
			"\"time\":{\"created\":7},\"error\":{\"name\":\"x\"},\"tokens\":{\"input\":1,"
			"\"output\":null,\"reasoning\":null,\"cache\":null}}",
			&v2, &o),
		  OPENCODE_MSG_USAGE);
	ASSERT_STR_EQ(o.model, "gpt-5.1-codex");
	ASSERT_STR_EQ(o.provider, "opencode");
	ASSERT(o.final);
	/* zero tokens: a placeholder (open) or an aborted call (not usage) */
	ASSERT_EQ(parse("{\"role\":\"assistant\",\"time\":{\"created\":1},\"tokens\":{\"input\":0,"
			"\"output\":0,\"reasoning\":0,\"cache\":{\"read\":0,\"write\":0}}}", &v1, &o),
		  OPENCODE_MSG_OPEN);
	ASSERT_EQ(parse("{\"role\":\"assistant\",\"error\":{},\"tokens\":{\"input\":0}}", &v1, &o),
		  OPENCODE_MSG_OTHER);
	ASSERT_EQ(parse("{\"role\":\"user\",\"tokens\":{\"input\":9}}", &v1, &o), OPENCODE_MSG_OTHER);
	ASSERT_EQ(parse("{\"role\":\"assistant\",\"tokens\":{\"input\":-1}}", &v1, &o), OPENCODE_MSG_BAD);
	ASSERT_EQ(parse("{\"role\":\"assistant\",\"tokens\":{\"input\":1}", &v1, &o), OPENCODE_MSG_INVALID);
	/* a legacy file: the ids are its own fields */
	ASSERT_EQ(parse("{\"id\":\"msg_j\",\"sessionID\":\"ses_j\",\"role\":\"assistant\","
			"\"time\":{\"created\":3},\"tokens\":{\"input\":1}}", NULL, &o),
		  OPENCODE_MSG_USAGE);
	ASSERT_STR_EQ(o.session, "ses_j");
	ASSERT_EQ(parse("{\"role\":\"assistant\",\"time\":{\"created\":3},\"tokens\":{\"input\":1}}",
			NULL, &o),
		  OPENCODE_MSG_BAD);
}

TEST(billing)
{
	bool cloud;

	ASSERT_EQ(opencode_billing("github-copilot", false, &cloud), EVENT_BILLING_SUBSCRIPTION);
	ASSERT_EQ(opencode_billing("anthropic", false, &cloud), EVENT_BILLING_API);
	ASSERT_EQ(opencode_billing("anthropic", true, &cloud), EVENT_BILLING_SUBSCRIPTION);
	ASSERT_EQ(opencode_billing("opencode", false, &cloud), EVENT_BILLING_API);
	ASSERT_EQ(opencode_billing("google-vertex-anthropic", false, &cloud), EVENT_BILLING_CLOUD);
	ASSERT(cloud);
	ASSERT_EQ(opencode_billing("openrouter", false, &cloud), EVENT_BILLING_UNKNOWN);
	ASSERT(!cloud);
}

static void
exec(sqlite3 *w, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(w, sql, NULL, NULL, &err) != SQLITE_OK) {
		TEST_FAIL_("%s: %s", sql, err);
	}
}

#define ROW(id, data) "INSERT INTO message VALUES ('" id "', 'ses_w', 1, 1, '" data "')"
#define DONE(n) "{\"role\":\"assistant\",\"time\":{\"created\":1796000000000,\"completed\":1},\"tokens\":{\"input\":" #n "}}"
#define PLACEHOLDER "{\"role\":\"assistant\",\"time\":{\"created\":1796000000000},\"tokens\":{\"input\":0}}"

/* Read the database once more with cur; the rows the read looked at. */
static uint64_t
read_again(struct scan *s, const char *path, struct scan_cursor *cur)
{
	uint64_t before = s->stat[SCAN_LINES];
	int fd = open(path, O_RDONLY);

	ASSERT(fd >= 0);
	ASSERT_EQ(scan_read(s, EVENT_TOOL_OPENCODE, path, "opencode.db", 0, fd, false, cur), 0);
	close(fd);
	return s->stat[SCAN_LINES] - before;
}

TEST(watermark)
{
	char dir[] = "/tmp/test-source-opencode.XXXXXX", path[600], cmd[700];
	struct scan_cursor *cur = calloc(1, sizeof(*cur));
	struct scan s;
	sqlite3 *w;

	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/opencode.db", dir);
	ASSERT_EQ(sqlite3_open(path, &w), SQLITE_OK);
	exec(w, "PRAGMA journal_mode=wal; CREATE TABLE message (id text PRIMARY KEY, session_id text NOT "
		"NULL, time_created integer NOT NULL, time_updated integer NOT NULL, data text NOT NULL)");
	exec(w, ROW("msg_1", DONE(1)));
	exec(w, ROW("msg_2", DONE(2)));
	exec(w, ROW("msg_3", PLACEHOLDER));
	project_init(&fx_project, PROJECT_NONE, NULL, 0);
	ASSERT_EQ(scan_init(&s, &fx_project), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
	ASSERT_EQ(read_again(&s, path, cur), 3);
	ASSERT_EQ(s.ledger.n, 2);
	/* nothing new: only the row in progress is looked at again */
	ASSERT_EQ(read_again(&s, path, cur), 1);
	/* it ends, and one more arrives: two rows read, not five */
	exec(w, "UPDATE message SET data = '" DONE(3) "' WHERE id = 'msg_3'");
	exec(w, ROW("msg_4", DONE(4)));
	ASSERT_EQ(read_again(&s, path, cur), 2);
	ASSERT_EQ(s.ledger.n, 4);
	ASSERT_NOT_NULL(fx_event(&s, EVENT_TOOL_OPENCODE, "msg_3"));
	ASSERT_EQ(read_again(&s, path, cur), 0);
	/* the newest row deleted and its rowid reused: read again from the start, no event twice */
	exec(w, "DELETE FROM message WHERE id = 'msg_4'");
	exec(w, ROW("msg_5", DONE(5)));
	ASSERT_EQ(read_again(&s, path, cur), 4);
	ASSERT_EQ(s.ledger.n, 5);
	/* the cursor survives its encoding */
	struct blob_w b = {0};
	source_opencode.cursor_encode(cur, &b);
	ASSERT(!b.oom);
	struct blob_r r = {b.p, b.len, 0, false};
	scan_cursor_reset(cur);
	source_opencode.cursor_decode(cur, &r);
	ASSERT(!r.bad);
	free(b.p);
	exec(w, ROW("msg_6", DONE(6)));
	ASSERT_EQ(read_again(&s, path, cur), 1);
	ASSERT_EQ(s.ledger.n, 6);
	sqlite3_close(w);
	scan_finish(&s);
	project_finish(&fx_project);
	free(cur);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
}

int
main(void)
{
	log_init("test-source-opencode", LOG_LEVEL_ERROR);
	RUN(real_database);
	RUN(mapping);
	RUN(billing);
	RUN(watermark);
	return 0;
}
