/*
 * test-agent-tail.c: incremental passes: nothing re-read when unchanged,
 * appends read from the offset, torn lines completed later, truncation and
 * replacement read again without double counting, deletion settles, pending
 * responses survive a restart, settle time, ids handed out once, and an
 * upgrade from the first state format neither recounts nor loses a place.
 */
#define _GNU_SOURCE /* memmem */
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
	fx_append(file, s);
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
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
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

/* ---- upgrade from the first state format ---- */


static void
hex_out(FILE *f, const void *p, size_t n)
{
	const unsigned char *c = p;

	if (n == 0) {
		fputs(" -", f);
		return;
	}
	fputc(' ', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%02x", c[i]);
	}
}

/* One F line of the first format for a whole file read to its end. */
static void
old_file_line(FILE *f, const char *tool, const char *path, const uint8_t *open_id, int has_prev,
	      const char *totals, const char *model, const char *session, const char *cwd)
{
	struct stat st;
	uint64_t size, fp = fx_fnv_file(path, &size);

	ASSERT_EQ(stat(path, &st), 0);
	fprintf(f, "F %s %llu %llu %llu %llu %llu %llu %llx %llu %llx", tool,
		(unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		(unsigned long long)size,
		(unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec,
		(unsigned long long)size, (unsigned long long)size, (unsigned long long)fp,
		(unsigned long long)size, (unsigned long long)fp);
	hex_out(f, open_id, open_id != NULL ? 16 : 0);
	fprintf(f, " %d %s 0 0", has_prev, totals);
	hex_out(f, model, strlen(model));
	hex_out(f, session, strlen(session));
	hex_out(f, cwd, strlen(cwd));
	hex_out(f, "", 0);
	fputs(" - -", f);
	hex_out(f, path, strlen(path));
	fputc('\n', f);
}

static int
keyed_pass(const struct scan_root *r, size_t n, int64_t now_ms, struct tail_stats *st, char *out,
	   size_t size, char *ret_label, size_t label_size)
{
	struct scan s;
	struct project p;
	FILE *f = fmemopen(out, size, "w");

	project_init(&p, PROJECT_KEYED_HASH, (const uint8_t *)"test-key", 8);
	ASSERT_EQ(scan_init(&s, &p), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
	ASSERT_EQ(tail_pass(&s, r, n, state, 0, now_ms, "team-a", f, st), 0);
	fclose(f);
	if (ret_label != NULL) {
		snprintf(ret_label, label_size, "%s",
			 project_label(&p, NULL, "/work/secret-project-xyz", NULL));
	}
	scan_finish(&s);
	project_finish(&p);
	return (int)st->emitted;
}

/*
 * An upgrade keeps its place: a state file of the first format (text, raw
 * paths) is read once, nothing already handed out is handed out again, the
 * pending response survives, Codex continues from its totals with the
 * project label its working directory gave, and the file written back holds
 * neither paths nor working directories.
 */
TEST(upgrade_text_state)
{
	static struct scan_root r2[2];
	struct tail_stats st;
	char claude_file[256], codex_file[256], path[300], out[8192], label[256], cmd[1024];
	uint8_t open_id[16];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/am-upg-XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/claude", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/projects/p' '%s/codex/sessions' '%s'", root, dir,
		 state);
	ASSERT_EQ(system(cmd), 0);
	r2[0].tool = EVENT_TOOL_CLAUDE;
	snprintf(r2[0].path, sizeof(r2[0].path), "%s", root);
	r2[1].tool = EVENT_TOOL_CODEX;
	snprintf(r2[1].path, sizeof(r2[1].path), "%s/codex", dir);

	/* msg_1 was handed out; msg_2 is still open */
	snprintf(claude_file, sizeof(claude_file), "%s/projects/p/s1.jsonl", root);
	snprintf(file, sizeof(file), "%s", claude_file);
	append(line("msg_1", 3, "2026-09-14T10:00:00.000Z"));
	append(line("msg_2", 4, "2026-09-14T10:01:00.000Z"));
	snprintf(codex_file, sizeof(codex_file),
		 "%s/codex/sessions/rollout-2026-09-14T10-00-00-0199a0b0-0000-7000-8000-000000000001.jsonl",
		 dir);
	snprintf(file, sizeof(file), "%s", codex_file);
	append("{\"timestamp\":\"2026-09-14T10:00:00Z\",\"type\":\"session_meta\",\"payload\":"
	       "{\"id\":\"0199a0b0-0000-7000-8000-000000000001\",\"cwd\":\"/work/secret-project-xyz\"}}\n"
	       "{\"timestamp\":\"2026-09-14T10:00:01Z\",\"type\":\"turn_context\",\"payload\":"
	       "{\"model\":\"gpt-5\"}}\n"
	       "{\"timestamp\":\"2026-09-14T10:00:02Z\",\"type\":\"event_msg\",\"payload\":{\"type\":"
	       "\"token_count\",\"info\":{\"total_token_usage\":{\"input_tokens\":10,"
	       "\"cached_input_tokens\":2,\"output_tokens\":3,\"reasoning_output_tokens\":1,"
	       "\"total_tokens\":13}}}}\n");

	am_event_id("claude-code", "msg_2", 5, open_id);
	snprintf(path, sizeof(path), "%s/files.state", state);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs("aimeter-agent-state 1\n", f);
	old_file_line(f, "claude", claude_file, open_id, 0, "0 0 0 0 0", "", "", "");
	old_file_line(f, "codex", codex_file, NULL, 1, "10 2 3 1 13", "gpt-5",
		      "0199a0b0-0000-7000-8000-000000000001", "/work/secret-project-xyz");
	fputs("P", f);
	hex_out(f, open_id, 16);
	fputs(" claude 1789380060000 0 1 4 0 0 0 0 0 0 -", f);
	hex_out(f, "claude-sonnet-4-5", 17);
	hex_out(f, "s1", 2);
	hex_out(f, "", 0);
	hex_out(f, "", 0);
	hex_out(f, "", 0);
	fputc('\n', f);
	fclose(f);
	/* the old agent had handed out msg_1: its id is in seen.bin */
	{
		uint8_t rec[24];
		int64_t ts = 1789380000000LL;
		snprintf(path, sizeof(path), "%s/seen.bin", state);
		f = fopen(path, "w");
		ASSERT_NOT_NULL(f);
		am_event_id("claude-code", "msg_1", 5, rec);
		for (int i = 0; i < 8; i++) {
			rec[16 + i] = (uint8_t)((uint64_t)ts >> (8 * i));
		}
		ASSERT_EQ(fwrite("AMSEEN2\n", 8, 1, f), 1);
		ASSERT_EQ(fwrite(rec, 24, 1, f), 1);
		fclose(f);
		snprintf(path, sizeof(path), "%s/files.state", state);
	}

	/* the upgrade pass: nothing is read again; msg_2 settles, once */
	ASSERT_EQ(keyed_pass(r2, 2, mtime_ms() + 1000, &st, out, sizeof(out), label,
			     sizeof(label)),
		  1);
	ASSERT_EQ(st.unchanged, 2);
	ASSERT(strstr(out, "\"output_tokens\":4") != NULL);

	/* Codex goes on from its totals, under the label its working directory gave */
	append("{\"timestamp\":\"2026-09-14T10:05:00Z\",\"type\":\"event_msg\",\"payload\":{\"type\":"
	       "\"token_count\",\"info\":{\"total_token_usage\":{\"input_tokens\":30,"
	       "\"cached_input_tokens\":2,\"output_tokens\":8,\"reasoning_output_tokens\":1,"
	       "\"total_tokens\":38}}}}\n");
	ASSERT_EQ(keyed_pass(r2, 2, mtime_ms() + 1000, &st, out, sizeof(out), NULL, 0), 1);
	ASSERT(strstr(out, "\"input_tokens\":20") != NULL);
	ASSERT(strstr(out, "\"output_tokens\":5") != NULL);
	ASSERT(strstr(out, "\"model\":\"gpt-5\"") != NULL);
	ASSERT_EQ(strlen(label), 32);
	char want[300];
	snprintf(want, sizeof(want), "\"project\":\"%s\"", label);
	ASSERT(strstr(out, want) != NULL);

	/* the state written back: no path, no working directory */
	{
		char buf[1 << 16];
		FILE *g = fopen(path, "r");
		size_t n;
		ASSERT_NOT_NULL(g);
		n = fread(buf, 1, sizeof(buf), g);
		fclose(g);
		ASSERT(memmem(buf, n, "aimeter-agent-state", 19) == NULL);
		ASSERT(memmem(buf, n, "secret-project", 14) == NULL);
		ASSERT(memmem(buf, n, dir + 5, strlen(dir + 5)) == NULL);
	}
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
	RUN(upgrade_text_state);
	return 0;
}
