/*
 * test-source-claude.c: the Claude Code reader and the Decisions, each on
 * its own fixture under tests/fixtures/claude/ (spec section 7 pitfalls
 * 1-3, 8, 9, 12, 13 and the Decisions on Claude events).
 */
#include <stdlib.h>
#include <unistd.h>

#include "agent-fixture.h"

#define TS(s) ts_ms(s)

static int64_t
ts_ms(const char *s)
{
	int64_t v = 0;
	ASSERT_EQ(event_ts_parse(s, &v), 0);
	return v;
}

/* Streaming snapshots: one event, the largest (final) snapshot, the earliest time. */
TEST(streaming_snapshots)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/streaming");
	ASSERT_EQ(s.ledger.n, 1);
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_A");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 412);
	ASSERT_UINT_EQ(r->tok[EVENT_INPUT], 4);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_1H], 2210);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_5M], 0);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 48112);
	ASSERT_EQ(r->ts_ms, TS("2026-09-14T16:02:11.204Z"));
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->model), "claude-sonnet-4-5-20250929");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->tier), "standard");
	fx_done(&s);
}

/* Content-block split: one line per block, one event, earliest timestamp (not first line). */
TEST(content_block_split)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/content-split");
	ASSERT_EQ(s.ledger.n, 1);
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_B");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 412);
	ASSERT_EQ(r->ts_ms, TS("2026-09-14T16:02:11.000Z"));
	fx_done(&s);
}

/* Without requestId the key is still message.id: no double count (ccusage daily's bug). */
TEST(no_request_id)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/no-request-id");
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_UINT_EQ(fx_event(&s, EVENT_TOOL_CLAUDE, "msg_C")->tok[EVENT_OUTPUT], 90);
	fx_done(&s);
}

/* JSON null is absent: the line counts (ccusage drops it), null counters are 0. */
TEST(null_fields)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/null-fields");
	ASSERT_EQ(s.ledger.n, 1);
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_D");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 50);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 0);
	/* cache_creation null: the total is 5m */
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_5M], 2210);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->speed), "");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->project), "");
	fx_done(&s);
}

/* Lines without message.id are never merged: key = path relative to the root + uuid. */
TEST(no_message_id)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/no-message-id");
	ASSERT_EQ(s.ledger.n, 2);
	ASSERT_NOT_NULL(
		fx_event(&s, EVENT_TOOL_CLAUDE, "line:projects/-home-dev-shop-api/s1.jsonl#u-1"));
	ASSERT_UINT_EQ(
		fx_event(&s, EVENT_TOOL_CLAUDE, "line:projects/-home-dev-shop-api/s1.jsonl#u-2")
			->tok[EVENT_OUTPUT],
		20);
	fx_done(&s);
}

/* A resumed copy in another file is the same event; the time stays the original. */
TEST(resumed_copy)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/resumed-copy");
	ASSERT_EQ(s.ledger.n, 2);
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_E");
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 300);
	ASSERT_EQ(r->ts_ms, TS("2026-09-14T10:00:00.000Z"));
	/* the earliest copy dates the event and names its session, whichever file came first */
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), "s-old");
	fx_done(&s);
}

/*
 * A copy in another project directory (a session resumed from another cwd)
 * is the same event as the original, whichever directory is read first and
 * in either ledger layout: buckets are the largest seen, the time and
 * session the earliest copy's.
 */
TEST(copy_across_project_dirs)
{
	for (int compact = 0; compact < 2; compact++) {
		struct scan s;
		struct ledger_rec r;
		char root[4096];
		uint8_t id[16];
		size_t i;

		project_init(&fx_project, PROJECT_KEYED_HASH, (const uint8_t *)"test-key", 8);
		ASSERT_EQ(scan_init(&s, &fx_project), 0);
		ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_SUBSCRIPTION), 0);
		s.settle_all = true;
		if (compact) {
			ledger_set_compact(&s.ledger);
		}
		snprintf(root, sizeof(root), "%s/claude/cross-project", AM_FIXTURES);
		scan_walk_one(&s, EVENT_TOOL_CLAUDE, root, 0, scan_read_all_cb, NULL);
		ASSERT_EQ(s.ledger.n, 2);
		ledger_sort(&s.ledger);
		am_event_id("claude-code", "msg_X", 5, id);
		for (i = 0; i < s.ledger.n; i++) {
			ledger_get(&s.ledger, i, &r);
			if (memcmp(r.id, id, 16) == 0) {
				break;
			}
		}
		ASSERT_LT(i, s.ledger.n);
		ASSERT_EQ(i, 0); /* sorted by time: msg_X at 10:00:00 comes first */
		ASSERT_UINT_EQ(r.tok[EVENT_OUTPUT], 480);
		ASSERT_UINT_EQ(r.tok[EVENT_WEB_SEARCH], 2);
		ASSERT_EQ(r.ts_ms, TS("2026-09-14T10:00:00.000Z"));
		ASSERT_STR_EQ(ledger_str(&s.ledger, r.session), "s-orig");
		ASSERT_STR_EQ(ledger_str(&s.ledger, r.speed), "fast");
		fx_done(&s);
	}
}

/* A sidechain replay of a seen message.id never adds, even with bigger numbers. */
TEST(sidechain_replay)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/sidechain-replay");
	ASSERT_EQ(s.ledger.n, 1);
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_G");
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 100);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 48112);
	ASSERT_EQ(r->ts_ms, TS("2026-09-14T10:00:00.000Z"));
	ASSERT_EQ(s.ledger.replays_ignored, 1);
	fx_done(&s);
}

/* Order does not matter: the replay read first is replaced by the main-line copy. */
TEST(sidechain_read_first)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/sidechain-first");
	ASSERT_EQ(s.ledger.n, 1);
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_H");
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 100);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_READ], 48112);
	ASSERT_EQ(r->ts_ms, TS("2026-09-14T10:00:00.000Z"));
	fx_done(&s);
}

/* Sub-agent files are found recursively; journal.jsonl and *.meta.json are skipped. */
TEST(subagent_files)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/subagents");
	ASSERT_EQ(s.ledger.n, 2);
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_J");
	ASSERT_NOT_NULL(r);
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 96);
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->session), "s1");
	ASSERT_NULL(fx_event(&s, EVENT_TOOL_CLAUDE, "msg_K"));
	fx_done(&s);
}

/* <synthetic> and isApiErrorMessage lines are not usage; they are counted apart. */
TEST(synthetic_and_api_errors)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/synthetic");
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_NOT_NULL(fx_event(&s, EVENT_TOOL_CLAUDE, "msg_N"));
	ASSERT_EQ(s.stat[SCAN_SYNTHETIC], 1);
	ASSERT_EQ(s.stat[SCAN_API_ERRORS], 1);
	fx_done(&s);
}

/* A torn last line is not counted (and is left for the next pass). */
TEST(torn_last_line)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/torn");
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_NULL(fx_event(&s, EVENT_TOOL_CLAUDE, "msg_P"));
	ASSERT_EQ(s.stat[SCAN_TORN_TAILS], 1);
	fx_done(&s);
}

/* Usage-like text inside strings is never mistaken for fields. */
TEST(text_inside_strings)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/text-in-strings");
	ASSERT_EQ(s.ledger.n, 1);
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_Q");
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 8);
	ASSERT_NULL(fx_event(&s, EVENT_TOOL_CLAUDE, "msg_TRAP"));
	ASSERT_NULL(fx_event(&s, EVENT_TOOL_CLAUDE, "msg_R"));
	ASSERT_EQ(s.stat[SCAN_INVALID_JSON], 0);
	fx_done(&s);
}

/* Lines without the cache_creation split: all cache writes are 5-minute writes. */
TEST(legacy_without_split)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/legacy");
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_S");
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_5M], 1200);
	ASSERT_UINT_EQ(r->tok[EVENT_CACHE_WRITE_1H], 0);
	fx_done(&s);
}

/* Bad input is counted, warned about and skipped; the good line still counts. */
TEST(bad_input)
{
	struct scan s;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/nothing"); /* init only */
	fx_done(&s);
	project_init(&fx_project, PROJECT_KEYED_HASH, (const uint8_t *)"k", 1);
	ASSERT_EQ(scan_init(&s, &fx_project), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
	s.settle_all = true;
	s.max_line = 65536;
	scan_walk_one(&s, EVENT_TOOL_CLAUDE, AM_FIXTURES "/claude/bad-input", 0, scan_read_all_cb, NULL);
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_UINT_EQ(fx_event(&s, EVENT_TOOL_CLAUDE, "msg_T")->tok[EVENT_OUTPUT], 11);
	ASSERT_EQ(s.stat[SCAN_INVALID_JSON], 3);
	ASSERT_EQ(s.stat[SCAN_BAD_LINES], 2);
	ASSERT_EQ(s.stat[SCAN_LONG_LINES], 1);
	fx_done(&s);
}

/* Bedrock/Vertex model ids: the event is billed "cloud". */
TEST(cloud_model_billing)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/cloud-model");
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_U");
	ASSERT_STR_EQ(event_billing_name(s.origins[r->origin].billing), "cloud");
	ASSERT_STR_EQ(s.origins[r->origin].user, "dana");
	fx_done(&s);
}

/* speed and service_tier come from whichever snapshot has them. */
TEST(fast_speed)
{
	struct scan s;
	const struct ledger_rec *r;

	fx_scan(&s, EVENT_TOOL_CLAUDE, "claude/fast");
	r = fx_event(&s, EVENT_TOOL_CLAUDE, "msg_V");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->speed), "fast");
	ASSERT_STR_EQ(ledger_str(&s.ledger, r->tier), "standard");
	ASSERT_UINT_EQ(r->tok[EVENT_OUTPUT], 200);
	fx_done(&s);
}

/* Several roots, a symlink loop, and one file reached twice: read once, no hang. */
TEST(roots_symlinks_and_loops)
{
	char dir[] = "/tmp/am-roots-XXXXXX", a[4200], b[4200], cmd[9000];
	struct scan s;

	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/a/projects && cp -r %s/claude/streaming/projects/* %s/a/projects/ && "
		 "ln -s .. %s/a/projects/-home-dev-shop-api/loop && "
		 "mkdir -p %s/b/projects && ln -s %s/a/projects/-home-dev-shop-api %s/b/projects/same && "
		 "mkdir -p %s/a/projects/locked && chmod 000 %s/a/projects/locked",
		 dir, AM_FIXTURES, dir, dir, dir, dir, dir, dir, dir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	project_init(&fx_project, PROJECT_KEYED_HASH, (const uint8_t *)"k", 1);
	ASSERT_EQ(scan_init(&s, &fx_project), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
	s.settle_all = true;
	scan_walk_one(&s, EVENT_TOOL_CLAUDE, a, 0, scan_read_all_cb, NULL);
	scan_walk_one(&s, EVENT_TOOL_CLAUDE, b, 0, scan_read_all_cb, NULL);
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_EQ(s.stat[SCAN_FILES], 1);
	ASSERT_GE(s.stat[SCAN_LOOPS], 1);
	if (geteuid() != 0) {
		ASSERT_EQ(s.stat[SCAN_UNREADABLE], 1);
	}
	fx_done(&s);
	snprintf(cmd, sizeof(cmd), "chmod 700 %s/a/projects/locked; rm -rf %s", dir, dir);
	ASSERT_EQ(system(cmd), 0);
}

/* Writes a one-project Claude root under dir holding text; returns its path in ret. */
static void
write_root(const char *dir, const char *text, char *ret, size_t size)
{
	char path[4200];
	FILE *f;

	snprintf(ret, size, "%s/root", dir);
	snprintf(path, sizeof(path), "mkdir -p %s/projects/p", ret);
	ASSERT_EQ(system(path), 0);
	snprintf(path, sizeof(path), "%s/projects/p/s.jsonl", ret);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

#define LINE(id, ts, out)                                                                         \
	"{\"type\":\"assistant\",\"timestamp\":\"" ts "\",\"message\":{\"model\":\"m\",\"id\":\"" id \
	"\",\"usage\":{\"input_tokens\":1,\"output_tokens\":" out "}}}\n"

/* A time before 1970 or from 2100 on, or a bucket over 10^9, drops that line only. */
TEST(implausible_lines)
{
	char dir[] = "/tmp/am-implausible-XXXXXX", root[4200], cmd[4300];
	struct scan s;

	ASSERT_NOT_NULL(mkdtemp(dir));
	write_root(dir,
		   LINE("ok1", "2026-09-14T10:00:00Z", "5")
		   LINE("pre1970", "1969-12-31T23:59:59.999Z", "5")
		   LINE("epoch", "1970-01-01T00:00:00Z", "5")
		   LINE("y2100", "2100-01-01T00:00:00Z", "5")
		   LINE("max", "2026-09-14T10:01:00Z", "1000000000")
		   LINE("over", "2026-09-14T10:02:00Z", "1000000001")
		   LINE("ok2", "2026-09-14T10:03:00Z", "6"),
		   root, sizeof(root));
	project_init(&fx_project, PROJECT_KEYED_HASH, (const uint8_t *)"k", 1);
	ASSERT_EQ(scan_init(&s, &fx_project), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
	s.settle_all = true;
	scan_walk_one(&s, EVENT_TOOL_CLAUDE, root, 0, scan_read_all_cb, NULL);
	ASSERT_EQ(s.ledger.n, 3);
	ASSERT_NOT_NULL(fx_event(&s, EVENT_TOOL_CLAUDE, "ok1"));
	ASSERT_NOT_NULL(fx_event(&s, EVENT_TOOL_CLAUDE, "ok2"));
	ASSERT_UINT_EQ(fx_event(&s, EVENT_TOOL_CLAUDE, "max")->tok[EVENT_OUTPUT], 1000000000);
	ASSERT_EQ(s.stat[SCAN_IMPLAUSIBLE], 4);
	fx_done(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(system(cmd), 0);
}

/*
 * A strict root (all-users mode) as another uid: nothing is read, the
 * refusal is counted; as its own uid, a link inside is skipped and counted
 * while the real file is read. (Real users: tests/agent/allusers.py.)
 */
TEST(strict_root)
{
	char dir[] = "/tmp/am-strict-XXXXXX", cmd[13000];
	static struct scan_root root;
	struct scan s;

	ASSERT_NOT_NULL(mkdtemp(dir));
	write_root(dir, LINE("own", "2026-09-14T10:00:00Z", "5"), root.path, sizeof(root.path));
	snprintf(cmd, sizeof(cmd), "ln -s %s/projects/p/s.jsonl %s/projects/p/l.jsonl && "
		 "ln -s / %s/projects/slash", root.path, root.path, root.path);
	ASSERT_EQ(system(cmd), 0);
	root.tool = EVENT_TOOL_CLAUDE;
	project_init(&fx_project, PROJECT_KEYED_HASH, (const uint8_t *)"k", 1);

	scan_root_own(&root, geteuid() + 1, dir);
	ASSERT_EQ(root.owned.trusted_len, strlen(dir));
	ASSERT_EQ(scan_init(&s, &fx_project), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
	s.settle_all = true;
	scan_walk_all(&s, &root, 1, scan_read_all_cb, NULL);
	ASSERT_EQ(s.ledger.n, 0);
	ASSERT_EQ(s.stat[SCAN_FOREIGN], 1); /* root/ itself: nothing below is looked at */
	fx_done(&s);

	project_init(&fx_project, PROJECT_KEYED_HASH, (const uint8_t *)"k", 1);
	scan_root_own(&root, geteuid(), dir);
	ASSERT_EQ(scan_init(&s, &fx_project), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
	s.settle_all = true;
	scan_walk_all(&s, &root, 1, scan_read_all_cb, NULL);
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_EQ(s.stat[SCAN_FILES], 1);
	ASSERT_EQ(s.stat[SCAN_UNSAFE], 2);
	ASSERT_EQ(s.stat[SCAN_FOREIGN], 0);
	fx_done(&s);

	/* the same tree, lenient: the file link is a second way to one file, read once */
	project_init(&fx_project, PROJECT_KEYED_HASH, (const uint8_t *)"k", 1);
	memset(&root.owned, 0, sizeof(root.owned));
	ASSERT_EQ(scan_init(&s, &fx_project), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_API), 0);
	s.settle_all = true;
	snprintf(cmd, sizeof(cmd), "rm %s/projects/slash", root.path);
	ASSERT_EQ(system(cmd), 0);
	scan_walk_all(&s, &root, 1, scan_read_all_cb, NULL);
	ASSERT_EQ(s.ledger.n, 1);
	ASSERT_EQ(s.stat[SCAN_UNSAFE], 0);
	fx_done(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(system(cmd), 0);
}

/* Text from users' files reaches a terminal without control characters. */
TEST(printable)
{
	char buf[64];

	ASSERT_STR_EQ(event_printable("claude-\x1b[2Jx\x7f\xc2\x9b\xc3\xa9", buf, sizeof(buf)),
		      "claude-?[2Jx??\xc3\xa9");
	ASSERT_STR_EQ(event_printable("abcdef", buf, 4), "abc");
}

/* A plain-policy label never exceeds the wire's string limit, and is cut between characters. */
TEST(label_fits_the_wire)
{
	char remote[700] = "https://git.example.com/";
	struct project p;
	const char *l;

	for (int i = 0; i < 300; i++) {
		strcat(remote, "\xc3\xa9"); /* U+00E9, two bytes */
	}
	project_init(&p, PROJECT_GIT_REMOTE, NULL, 0);
	l = project_label(&p, remote, "/w", NULL);
	ASSERT_LE(strlen(l), PROJECT_LABEL_WIRE_MAX);
	ASSERT_GE(strlen(l), PROJECT_LABEL_WIRE_MAX - 1);
	ASSERT_EQ(strncmp(l, remote, strlen(l)), 0);
	ASSERT_EQ((strlen(l) - 24) % 2, 0); /* whole characters only */
	project_finish(&p);
}

/* Golden event id: changing the id function would double-count every re-scan. */
TEST(event_id_golden)
{
	uint8_t id[16];
	char hex[33];

	am_event_id("claude-code", "msg_A", 5, id);
	am_event_id_hex(id, hex);
	/* python3: hashlib.sha256(b"aimeter/v1\0claude-code\0msg_A").hexdigest()[:32] */
	ASSERT_STR_EQ(hex, "44bb9ca7bfc1260f9b095760bd9e1809");
}

int
main(void)
{
	log_init("test-source-claude", LOG_LEVEL_ERROR);
	RUN(streaming_snapshots);
	RUN(implausible_lines);
	RUN(strict_root);
	RUN(printable);
	RUN(label_fits_the_wire);
	RUN(content_block_split);
	RUN(no_request_id);
	RUN(null_fields);
	RUN(no_message_id);
	RUN(resumed_copy);
	RUN(copy_across_project_dirs);
	RUN(sidechain_replay);
	RUN(sidechain_read_first);
	RUN(subagent_files);
	RUN(synthetic_and_api_errors);
	RUN(torn_last_line);
	RUN(text_inside_strings);
	RUN(legacy_without_split);
	RUN(bad_input);
	RUN(cloud_model_billing);
	RUN(fast_speed);
	RUN(roots_symlinks_and_loops);
	RUN(event_id_golden);
	return 0;
}
