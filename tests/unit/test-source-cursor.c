/*
 * test-source-cursor.c: the Cursor reader (specs/more-tools.md, "Cursor";
 * docs/tool-formats.md): the row parser, and the database read through the
 * tracking engine with a live writer holding it in WAL mode: an unchanged
 * database is not opened, a changed one is read from its rowid watermark
 * (a row replaced with counts is read again), ItemTable never.
 */
#include <stdlib.h>

#include <sqlite3.h>

#include "agent-fixture.h"
#include "source-cursor.h"
#include "track.h"

#define CID "0b5e7d2a-1111-4000-8000-00000000c0de"

static void
put(sqlite3 *db, const char *table, const char *key, const char *value)
{
	char sql[256];
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql), "INSERT INTO %s (key, value) VALUES (?1, ?2)", table);
	ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static enum cursor_row
parse(const char *key, const char *value, struct cursor_obs *o)
{
	struct json_doc d;
	enum cursor_row r;

	json_doc_init(&d);
	r = cursor_row_parse(&d, key, strlen(key), value, strlen(value), o);
	json_doc_finish(&d);
	return r;
}

TEST(rows)
{
	struct cursor_obs o;

	ASSERT_EQ(parse("bubbleId:c:b", "{\"type\":2,\"createdAt\":1767225600000,"
				       "\"tokenCount\":{\"inputTokens\":7,\"outputTokens\":3}}", &o),
		  CURSOR_ROW_USAGE);
	ASSERT_STR_EQ(o.key, "c/b");
	ASSERT_STR_EQ(o.model, "");
	ASSERT_UINT_EQ(o.tok[EVENT_INPUT], 7);
	ASSERT_UINT_EQ(o.tok[EVENT_OUTPUT], 3);
	ASSERT_EQ(o.ts_ms, 1767225600000);
	ASSERT_EQ(parse("bubbleId:c:b", "{\"type\":2,\"tokenCount\":{\"inputTokens\":0,"
				       "\"outputTokens\":0}}", &o),
		  CURSOR_ROW_OTHER);
	ASSERT_EQ(parse("bubbleId:c:b", "{\"type\":1,\"modelInfo\":{\"modelName\":\"auto\"}}", &o),
		  CURSOR_ROW_SELECTED);
	ASSERT_STR_EQ(o.model, "auto");
	ASSERT_EQ(parse("composerData:c", "{\"modelConfig\":{\"modelName\":\"gpt-5\"},"
					 "\"contextTokensUsed\":5000}", &o),
		  CURSOR_ROW_SELECTED);
	ASSERT_EQ(parse("composerData:c", "{\"contextTokensUsed\":5000}", &o), CURSOR_ROW_OTHER);
	ASSERT_EQ(parse("bubbleId:c:b", "{\"type\":2,\"tokenCount\":{\"inputTokens\":5}}", &o),
		  CURSOR_ROW_BAD); /* counts but no time */
	ASSERT_EQ(parse("bubbleId:c:b/../x", "{\"type\":2}", &o), CURSOR_ROW_BAD);
	ASSERT_EQ(parse("bubbleId:c", "{\"type\":2}", &o), CURSOR_ROW_BAD);
	ASSERT_EQ(parse("bubbleId:c:b", "{\"type\":2,", &o), CURSOR_ROW_INVALID);
}

TEST(watermark)
{
	static struct scan_root root;
	char dir[64], path[256], cmd[320];
	struct project p;
	struct scan s;
	struct track t;
	sqlite3 *w;
	uint64_t lines;
	size_t *idx, n;

	snprintf(dir, sizeof(dir), "/tmp/am-cursor-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/User/globalStorage'", dir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/User/globalStorage/state.vscdb", dir);
	ASSERT_EQ(sqlite3_open(path, &w), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(w,
			       "PRAGMA journal_mode=WAL;"
			       "CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);"
			       "CREATE TABLE cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	put(w, "ItemTable", "bubbleId:" CID ":x",
	    "{\"type\":2,\"createdAt\":\"2026-10-03T08:00:00Z\",\"tokenCount\":{\"inputTokens\":9,"
	    "\"outputTokens\":9}}");
	put(w, "cursorDiskKV", "bubbleId:" CID ":u1",
	    "{\"type\":1,\"modelInfo\":{\"modelName\":\"claude-4-sonnet\"}}");
	put(w, "cursorDiskKV", "bubbleId:" CID ":a1",
	    "{\"type\":2,\"createdAt\":\"2026-10-03T08:00:01Z\",\"tokenCount\":{\"inputTokens\":0,"
	    "\"outputTokens\":0}}");

	root.tool = EVENT_TOOL_CURSOR;
	snprintf(root.path, sizeof(root.path), "%s/User", dir);
	project_init(&p, PROJECT_KEYED_HASH, (const uint8_t *)"test-key", 8);
	ASSERT_EQ(scan_init(&s, &p), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_UNKNOWN), 0);
	track_init(&t, &s, 0);

	track_pass(&t, &root, 1, INT64_MAX / 2);
	ASSERT_EQ(t.st.new_files, 1);
	ASSERT_EQ(s.stat[SCAN_LINES], 2); /* the two cursorDiskKV rows; not ItemTable's */
	ASSERT_EQ(track_take_settled(&t, &idx, &n), 0);
	ASSERT_EQ(n, 0);
	free(idx);
	track_commit(&t);

	track_pass(&t, &root, 1, INT64_MAX / 2);
	ASSERT_EQ(t.st.unchanged, 1); /* nothing written: not opened */
	ASSERT_EQ(s.stat[SCAN_LINES], 2);

	/* the turn ends: the bubble is written again with its counts (a new rowid) */
	put(w, "cursorDiskKV", "bubbleId:" CID ":a1",
	    "{\"type\":2,\"createdAt\":\"2026-10-03T08:00:01Z\",\"tokenCount\":{\"inputTokens\":120,"
	    "\"outputTokens\":30}}");
	lines = s.stat[SCAN_LINES];
	track_pass(&t, &root, 1, INT64_MAX / 2);
	ASSERT_EQ(s.stat[SCAN_LINES], lines + 1); /* only the row above the watermark */
	ASSERT_EQ(track_take_settled(&t, &idx, &n), 0);
	ASSERT_EQ(n, 1);
	const struct ledger_rec *r = ledger_at(&s.ledger, idx[0]);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 120);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 30);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "claude-4-sonnet"); /* the user's selection */
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), CID);
	ledger_at(&s.ledger, idx[0])->flags |= LEDGER_EMITTED; /* handed out, as collect does */
	free(idx);
	track_commit(&t);

	/* a value over the limit skips its row only; the rows after it are read */
	char big[6000];
	int n0 = snprintf(big, sizeof(big), "{\"type\":2,\"createdAt\":\"2026-10-03T08:00:02Z\","
					    "\"tokenCount\":{\"inputTokens\":5,\"outputTokens\":5},"
					    "\"text\":\"");
	memset(big + n0, 'x', sizeof(big) - (size_t)n0 - 3);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	s.max_line = 4096;
	put(w, "cursorDiskKV", "bubbleId:" CID ":u2", "{\"type\":1}");
	put(w, "cursorDiskKV", "bubbleId:" CID ":big", big);
	put(w, "cursorDiskKV", "bubbleId:" CID ":a2",
	    "{\"type\":2,\"createdAt\":\"2026-10-03T08:00:03Z\",\"tokenCount\":{\"inputTokens\":7,"
	    "\"outputTokens\":1}}");
	track_pass(&t, &root, 1, INT64_MAX / 2);
	ASSERT_EQ(s.stat[SCAN_LONG_LINES], 1);
	ASSERT_EQ(track_take_settled(&t, &idx, &n), 0);
	ASSERT_EQ(n, 1);
	ASSERT_UINT_EQ(ledger_at(&s.ledger, idx[0])->tok[EVENT_INPUT], 7);
	free(idx);
	track_commit(&t);

	track_finish(&t);
	scan_finish(&s);
	project_finish(&p);
	sqlite3_close(w);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

int
main(void)
{
	log_init("test-source-cursor", LOG_LEVEL_ERROR);
	RUN(rows);
	RUN(watermark);
	return 0;
}
