#define _GNU_SOURCE /* memmem */
/*
 * test-agent-track.c: the tracking engine's saved state. A blob of the
 * daemon's first format (FOL1, as spools written before the engine hold)
 * is read, and the daemon goes on where it was: nothing read again, Codex
 * continuing from its totals under the saved label. The engine's own
 * encoding reads back to the same bytes.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-fixture.h"
#include "blob.h"
#include "track.h"

static char dir[64], file[256];

static void
append(const char *s)
{
	fx_append(file, s);
}


/* The FOL1 blob follow.c wrote for a Codex file read to its end. */
static void
fol1_blob(struct blob_w *b)
{
	static const uint64_t totals[5] = {10, 2, 3, 1, 13};
	uint8_t key[16], zero[16] = {0};
	struct stat st;
	uint64_t size, fp = fx_fnv_file(file, &size);

	ASSERT_EQ(stat(file, &st), 0);
	track_path_key(file, key);
	blob_put32(b, 0x314c4f46u); /* "FOL1" */
	blob_put32(b, 1);
	blob_put32(b, 1);
	blob_put(b, key, 16);
	blob_put32(b, 4); /* has_prev */
	blob_put32(b, EVENT_TOOL_CODEX);
	blob_put64(b, (uint64_t)st.st_dev);
	blob_put64(b, (uint64_t)st.st_ino);
	blob_put64(b, size);
	blob_put64(b, (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec);
	blob_put64(b, size);
	blob_put64(b, size);
	blob_put64(b, fp);
	blob_put64(b, size);
	blob_put64(b, fp);
	blob_put(b, zero, 16);
	for (int i = 0; i < 5; i++) {
		blob_put64(b, totals[i]);
	}
	blob_put64(b, 0);
	blob_put_str(b, "gpt-5");
	blob_put_str(b, "0199a0b0-0000-7000-8000-000000000001");
	blob_put_str(b, "saved-label");
	blob_put32(b, 0); /* no pending responses */
	ASSERT(!b->oom);
}

TEST(reads_first_daemon_format)
{
	static struct scan_root root;
	struct project p;
	struct scan s;
	struct track t, t2;
	struct blob_w b = {0};
	size_t *idx, n;
	uint8_t *a, *c;
	size_t a_len, c_len;
	char cmd[512];

	snprintf(dir, sizeof(dir), "/tmp/am-track-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/codex/sessions'", dir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(file, sizeof(file),
		 "%s/codex/sessions/rollout-2026-09-14T10-00-00-0199a0b0-0000-7000-8000-000000000001.jsonl",
		 dir);
	append("{\"timestamp\":\"2026-09-14T10:00:00Z\",\"type\":\"session_meta\",\"payload\":"
	       "{\"id\":\"0199a0b0-0000-7000-8000-000000000001\",\"cwd\":\"/w\"}}\n"
	       "{\"timestamp\":\"2026-09-14T10:00:01Z\",\"type\":\"turn_context\",\"payload\":"
	       "{\"model\":\"gpt-5\"}}\n"
	       "{\"timestamp\":\"2026-09-14T10:00:02Z\",\"type\":\"event_msg\",\"payload\":{\"type\":"
	       "\"token_count\",\"info\":{\"total_token_usage\":{\"input_tokens\":10,"
	       "\"cached_input_tokens\":2,\"output_tokens\":3,\"reasoning_output_tokens\":1,"
	       "\"total_tokens\":13}}}}\n");
	root.tool = EVENT_TOOL_CODEX;
	snprintf(root.path, sizeof(root.path), "%s/codex", dir);
	fol1_blob(&b);

	project_init(&p, PROJECT_KEYED_HASH, (const uint8_t *)"test-key", 8);
	ASSERT_EQ(scan_init(&s, &p), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
	track_init(&t, &s, 30);
	ASSERT_EQ(track_decode(&t, b.p, b.len, true), 0);
	free(b.p);

	/* where the daemon was: the file is not even opened */
	track_pass(&t, &root, 1, INT64_MAX / 2);
	ASSERT_EQ(t.st.unchanged, 1);
	ASSERT_EQ(s.stat[SCAN_BYTES], 0);
	ASSERT_EQ(track_take_settled(&t, &idx, &n), 0);
	ASSERT_EQ(n, 0);
	free(idx);
	track_commit(&t);

	/* Codex goes on from the saved totals, under the saved label */
	append("{\"timestamp\":\"2026-09-14T10:05:00Z\",\"type\":\"event_msg\",\"payload\":{\"type\":"
	       "\"token_count\",\"info\":{\"total_token_usage\":{\"input_tokens\":30,"
	       "\"cached_input_tokens\":2,\"output_tokens\":8,\"reasoning_output_tokens\":1,"
	       "\"total_tokens\":38}}}}\n");
	track_pass(&t, &root, 1, INT64_MAX / 2);
	ASSERT_EQ(t.st.appended, 1);
	ASSERT_EQ(track_take_settled(&t, &idx, &n), 0);
	ASSERT_EQ(n, 1);
	const struct ledger_rec *r = ledger_at(&s.ledger, idx[0]);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 20);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 5);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "gpt-5");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->project), "saved-label");
	free(idx);
	track_commit(&t);

	/* the engine's own encoding reads back to the same bytes */
	ASSERT_EQ(track_encode(&t, true, &a, &a_len), 0);
	ASSERT(memmem(a, a_len, dir, strlen(dir)) == NULL); /* no path */
	track_init(&t2, &s, 30);
	ASSERT_EQ(track_decode(&t2, a, a_len, true), 0);
	ASSERT_EQ(track_encode(&t2, true, &c, &c_len), 0);
	ASSERT_EQ(a_len, c_len);
	ASSERT(memcmp(a, c, a_len) == 0);
	free(a);
	free(c);
	track_finish(&t2);
	track_finish(&t);
	scan_finish(&s);
	project_finish(&p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

int
main(void)
{
	log_init("test-agent-track", LOG_LEVEL_ERROR);
	RUN(reads_first_daemon_format);
	return 0;
}
