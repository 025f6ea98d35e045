/*
 * test-agent-tail.c: incremental passes: nothing re-read when unchanged,
 * appends read from the offset, torn lines completed later, truncation and
 * replacement read again without double counting, deletion settles, pending
 * responses survive a restart, settle time, ids handed out once.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-fixture.h"
#include "tail.h"

static char dir[64];
static char root[128], state[128], file[256];
static struct scan_root roots[1];

static const char *
line(const char *mid, int out, const char *ts)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"type\":\"assistant\",\"sessionId\":\"s1\",\"cwd\":\"/w\",\"message\":{\"id\":\"%s\","
		 "\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":1,\"output_tokens\":%d}},"
		 "\"uuid\":\"u\",\"timestamp\":\"%s\"}\n",
		 mid, out, ts);
	return buf;
}

static void
append(const char *s)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ASSERT(fd >= 0);
	ASSERT_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* One pass at time now_ms; returns the number of events emitted, output into out. */
static int
pass(int64_t now_ms, uint64_t settle, struct tail_stats *st, uint64_t *bytes, char *out, size_t size)
{
	struct scan s;
	struct project p;
	FILE *f = out != NULL ? fmemopen(out, size, "w") : NULL;

	project_init(&p, PROJECT_NONE, NULL, 0);
	ASSERT_EQ(scan_init(&s, &p), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", "api"), 0);
	ASSERT_EQ(tail_pass(&s, roots, 1, state, settle, now_ms, "team-a", f, st), 0);
	if (f != NULL) {
		fclose(f);
	}
	if (bytes != NULL) {
		*bytes = s.stat[SCAN_BYTES];
	}
	scan_finish(&s);
	project_finish(&p);
	return (int)st->emitted;
}

static int64_t
mtime_ms(void)
{
	struct stat stt;
	ASSERT_EQ(stat(file, &stt), 0);
	return (int64_t)stt.st_mtim.tv_sec * 1000 + stt.st_mtim.tv_nsec / 1000000;
}

TEST(incremental)
{
	struct tail_stats st;
	uint64_t bytes;
	char out[8192], cmd[2048];

	snprintf(dir, sizeof(dir), "/tmp/am-tail-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/claude", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(file, sizeof(file), "%s/projects/p/s1.jsonl", root);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/projects/p %s", root, state);
	ASSERT_EQ(system(cmd), 0);
	roots[0].tool = EVENT_TOOL_CLAUDE;
	snprintf(roots[0].path, sizeof(roots[0].path), "%s", root);

	/* two snapshots of msg_1: still open (the file is fresh) */
	append(line("msg_1", 3, "2026-09-14T10:00:00.000Z"));
	append(line("msg_1", 300, "2026-09-14T10:00:01.000Z"));
	ASSERT_EQ(pass(mtime_ms() + 1000, 30, &st, NULL, out, sizeof(out)), 0);
	ASSERT_EQ(st.new_files, 1);
	ASSERT_EQ(st.pending, 1);

	/* unchanged: nothing is read, the pending response survives the "restart" */
	ASSERT_EQ(pass(mtime_ms() + 1000, 30, &st, &bytes, out, sizeof(out)), 0);
	ASSERT_EQ(st.unchanged, 1);
	ASSERT_UINT_EQ(bytes, 0);
	ASSERT_EQ(st.pending, 1);

	/* a later line of another response settles msg_1; a torn line waits */
	append(line("msg_2", 7, "2026-09-14T10:01:00.000Z"));
	append("{\"type\":\"assistant\",\"message\":{\"id\":\"msg_3\"");
	ASSERT_EQ(pass(mtime_ms() + 1000, 30, &st, &bytes, out, sizeof(out)), 1);
	ASSERT_EQ(st.appended, 1);
	ASSERT(strstr(out, "\"output_tokens\":300") != NULL);
	ASSERT(strstr(out, "\"team_hint\":\"team-a\"") != NULL);
	ASSERT_LT(bytes, 1000); /* only the appended bytes */

	/* the torn line completes; quiet for the settle time: everything is final */
	append(",\"usage\":{\"output_tokens\":5}},\"timestamp\":\"2026-09-14T10:02:00.000Z\"}\n");
	ASSERT_EQ(pass(mtime_ms() + 31000, 30, &st, NULL, out, sizeof(out)), 2);
	ASSERT(strstr(out, "\"output_tokens\":7") != NULL);
	ASSERT(strstr(out, "\"output_tokens\":5") != NULL);
	ASSERT_EQ(st.pending, 0);

	/* replaced by a copy with the same history (resume rewrite): read again, nothing new */
	snprintf(cmd, sizeof(cmd), "cp %s %s.new && mv %s.new %s", file, file, file, file);
	ASSERT_EQ(system(cmd), 0);
	ASSERT_EQ(pass(mtime_ms() + 31000, 30, &st, NULL, out, sizeof(out)), 0);
	ASSERT_EQ(st.reread, 1);

	/* truncated and rewritten with different content: read from the start */
	ASSERT_EQ(truncate(file, 0), 0);
	append(line("msg_9", 9, "2026-09-14T11:00:00.000Z"));
	ASSERT_EQ(pass(mtime_ms() + 31000, 30, &st, NULL, out, sizeof(out)), 1);
	ASSERT(strstr(out, "\"output_tokens\":9") != NULL);

	/* deleted: forgotten */
	int64_t now = mtime_ms() + 31000;
	ASSERT_EQ(unlink(file), 0);
	pass(now, 30, &st, NULL, out, sizeof(out));
	ASSERT_EQ(st.removed, 1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(system(cmd), 0);
}

/* 1,000 unchanged files: a pass opens none of them. */
TEST(many_unchanged)
{
	struct tail_stats st;
	uint64_t bytes;
	char out[1 << 16], cmd[2048];

	snprintf(dir, sizeof(dir), "/tmp/am-tail-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/claude", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/projects/p %s", root, state);
	ASSERT_EQ(system(cmd), 0);
	snprintf(roots[0].path, sizeof(roots[0].path), "%s", root);
	for (int i = 0; i < 1000; i++) {
		char mid[32];
		snprintf(file, sizeof(file), "%s/projects/p/s%d.jsonl", root, i);
		snprintf(mid, sizeof(mid), "msg_%d", i);
		append(line(mid, i, "2026-09-14T10:00:00.000Z"));
	}
	ASSERT_EQ(pass(mtime_ms() + 60000, 30, &st, NULL, NULL, 0), 1000);
	ASSERT_EQ(pass(mtime_ms() + 60000, 30, &st, &bytes, out, sizeof(out)), 0);
	ASSERT_EQ(st.unchanged, 1000);
	ASSERT_UINT_EQ(bytes, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(system(cmd), 0);
}

static long
file_size(const char *path)
{
	struct stat stt;
	return stat(path, &stt) == 0 ? (long)stt.st_size : -1;
}

/* seen.bin keeps ids for 60 days of event time, then forgets them. */
TEST(seen_window)
{
	struct tail_stats st;
	char seen[256], copy[256], cmd[1024];
	static const uint8_t legacy_id[16] = {1, 2, 3};
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/am-seen-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/claude", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(file, sizeof(file), "%s/projects/p/a.jsonl", root);
	snprintf(seen, sizeof(seen), "%s/seen.bin", state);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/projects/p' '%s'", root, state);
	ASSERT_EQ(system(cmd), 0);
	roots[0].tool = EVENT_TOOL_CLAUDE;
	snprintf(roots[0].path, sizeof(roots[0].path), "%s", root);
	roots[0].origin = 0;
	/* a seen file of the first format: bare ids, kept for a window from now */
	f = fopen(seen, "w");
	ASSERT_NOT_NULL(f);
	ASSERT_EQ(fwrite(legacy_id, 16, 1, f), 1);
	fclose(f);

	append(line("msg_old", 5, "2026-01-01T00:00:00.000Z"));
	ASSERT_EQ(pass(mtime_ms() + 1000, 0, &st, NULL, NULL, 0), 1);
	ASSERT_EQ(file_size(seen), 8 + 2 * 24); /* magic, the legacy id, the new one */

	/* a copy in another file, within the window: not handed out again */
	snprintf(copy, sizeof(copy), "%s/projects/p/b.jsonl", root);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", file, copy);
	ASSERT_EQ(system(cmd), 0);
	ASSERT_EQ(pass(mtime_ms() + 1000, 0, &st, NULL, NULL, 0), 0);

	/* the clock alone (now months later) does not age ids: only newer events do */
	snprintf(copy, sizeof(copy), "%s/projects/p/c.jsonl", root);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", file, copy);
	ASSERT_EQ(system(cmd), 0);
	ASSERT_EQ(pass(mtime_ms() + 1000, 0, &st, NULL, NULL, 0), 0);

	/* an event 61 days newer: msg_old and the legacy id are forgotten, the
	 * file is rewritten with the new id only; a copy of msg_old read now is
	 * handed out again (the collector drops it by event id) */
	append(line("msg_new", 6, "2026-03-03T00:00:00.000Z"));
	ASSERT_EQ(pass(mtime_ms() + 1000, 0, &st, NULL, NULL, 0), 1);
	ASSERT_EQ(file_size(seen), 8 + 24);
	snprintf(copy, sizeof(copy), "%s/projects/p/d.jsonl", root);
	snprintf(cmd, sizeof(cmd), "head -n 1 '%s' > '%s'", file, copy);
	ASSERT_EQ(system(cmd), 0);
	ASSERT_EQ(pass(mtime_ms() + 1000, 0, &st, NULL, NULL, 0), 1);
	ASSERT_EQ(file_size(seen), 8 + 24); /* too old to be written */

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

int
main(void)
{
	log_init("test-agent-tail", LOG_LEVEL_ERROR);
	RUN(incremental);
	RUN(many_unchanged);
	RUN(seen_window);
	return 0;
}
