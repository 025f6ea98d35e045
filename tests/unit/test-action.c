/*
 * test-action.c: the action rules one by one (docs/actions.md): line
 * counts, trim, patch text, extensions, the shell recognisers, names, the
 * merge of copies, and the size of one record on the wire.
 */
#include <stdio.h>
#include <string.h>

#include "action-lines.h"
#include "action-shell.h"
#include "action-wire.h"
#include "action.h"
#include "test.h"

TEST(lines)
{
	uint32_t a, r;

	ASSERT_UINT_EQ(action_lines("", 0), 0);
	ASSERT_UINT_EQ(action_lines("a", 1), 1);
	ASSERT_UINT_EQ(action_lines("a\n", 2), 1);
	ASSERT_UINT_EQ(action_lines("a\n\n", 3), 2);
	ASSERT_UINT_EQ(action_lines("\n", 1), 1);
	ASSERT_EQ(action_trim("a\nb\nc\n", 6, "a\nB\nc\n", 6, &a, &r), 0);
	ASSERT_UINT_EQ(a, 1);
	ASSERT_UINT_EQ(r, 1);
	ASSERT_EQ(action_trim("x", 1, "x\ny", 3, &a, &r), 0);
	ASSERT_UINT_EQ(a, 1);
	ASSERT_UINT_EQ(r, 0);
	ASSERT_EQ(action_trim("a\na\n", 4, "a\n", 2, &a, &r), 0); /* no overlap of lead and tail */
	ASSERT_UINT_EQ(a, 0);
	ASSERT_UINT_EQ(r, 1);
}

TEST(patch)
{
	const char *p = "*** Begin Patch\n*** Update File: src/a.PY\n@@ x\n-old\n+new\n+*** End Patch\n"
			" ctx\n\n*** Add File: b\n+1\n+2\n*** Delete File: c\n-not counted\n"
			"*** End Patch\n+outside\n";
	const char *first;
	size_t fn;
	uint32_t a, r;
	char ext[12];

	action_patch_lines(p, strlen(p), &a, &r, &first, &fn);
	ASSERT_UINT_EQ(a, 4);
	ASSERT_UINT_EQ(r, 1);
	action_file_ext(first, fn, ext);
	ASSERT_STR_EQ(ext, "py");
}

TEST(ext)
{
	char e[12];

	action_file_ext("docs/\xc3\x9c" "berblick.MD", 18, e);
	ASSERT_STR_EQ(e, "md");
	action_file_ext("dump.tar.gz", 11, e);
	ASSERT_STR_EQ(e, "gz");
	action_file_ext("a/Makefile", 10, e);
	ASSERT_STR_EQ(e, "");
	action_file_ext("x/.env", 6, e);
	ASSERT_STR_EQ(e, "");
	action_file_ext("C:\\x\\Button.test.tsx", 20, e);
	ASSERT_STR_EQ(e, "tsx");
	action_file_ext("a.abcdefghijk", 13, e);
	ASSERT_STR_EQ(e, "");
}

static int
classify(const char *cmd)
{
	struct shell_facts f;
	int r;

	ASSERT_EQ(shell_script(cmd, strlen(cmd), &f), 0);
	r = (f.commit ? 1 : 0) | (f.pull_request ? 2 : 0) | (f.patch ? 4 : 0);
	shell_facts_finish(&f);
	return r;
}

TEST(shell)
{
	ASSERT_EQ(classify("git commit -m x"), 1);
	ASSERT_EQ(classify("git commit --dry-run -m x"), 0);
	ASSERT_EQ(classify("git log --grep \"git commit\""), 0);
	ASSERT_EQ(classify("echo \"git commit\""), 0);
	ASSERT_EQ(classify("echo x; git commit -m y"), 1);
	ASSERT_EQ(classify("make && GIT_DIR=.git env -i /usr/bin/git -C a -c x=y commit --amend 2>&1 | cat"), 1);
	ASSERT_EQ(classify("git commit-tree x"), 0);
	ASSERT_EQ(classify("git --git-dir=.git commit"), 1);
	ASSERT_EQ(classify("git --git-dir .git commit"), 1);
	ASSERT_EQ(classify("# git commit\nls"), 0);
	ASSERT_EQ(classify("cat <<EOF\ngit commit\nEOF\nls"), 0);
	ASSERT_EQ(classify("cat <<EOF && git commit -F-\nmsg\nEOF\n"), 1);
	ASSERT_EQ(classify("x=$(git commit -m y)"), 0);
	ASSERT_EQ(classify("gh pr create --fill"), 2);
	ASSERT_EQ(classify("gh pr create --help"), 0);
	ASSERT_EQ(classify("glab mr create"), 2);
	ASSERT_EQ(classify("gh pr view 3"), 0);
	ASSERT_EQ(classify("git commit -m a && gh pr create"), 3);
	ASSERT_EQ(classify("apply_patch <<'EOF'\n*** Begin Patch\nEOF\n"), 4);
	ASSERT_EQ(classify("ls; apply_patch x"), 0);
	ASSERT_EQ(classify("git commit -m 'unterminated"), 1);
	ASSERT(shell_mcp_creates_pr("create_pull_request"));
	ASSERT(shell_mcp_creates_pr("Create-Merge-Request"));
	ASSERT(!shell_mcp_creates_pr("list_pull_requests"));
}

TEST(argv)
{
	const char *v1[] = {"bash", "-lc", "git add -A && git commit -m x"};
	const char *v2[] = {"git", "commit", "--dry-run"};
	const char *v3[] = {"apply_patch", "*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\n"};
	size_t l1[] = {4, 3, strlen(v1[2])}, l2[] = {3, 6, 9}, l3[] = {11, strlen(v3[1])};
	struct shell_facts f;

	ASSERT_EQ(shell_argv(v1, l1, 3, &f), 0);
	ASSERT(f.commit);
	shell_facts_finish(&f);
	ASSERT_EQ(shell_argv(v2, l2, 3, &f), 0);
	ASSERT(!f.commit);
	shell_facts_finish(&f);
	ASSERT_EQ(shell_argv(v3, l3, 2, &f), 0);
	ASSERT(f.patch);
	ASSERT_NOT_NULL(f.patch_text);
	ASSERT_STR_EQ(f.patch_text, v3[1]);
	shell_facts_finish(&f);
}

TEST(names_and_merge)
{
	static const uint8_t key[32] = {7};
	struct action_table t;
	struct action_call c;
	struct action_result r;
	struct action_rec rec;
	char n[64];

	action_table_init(&t, key, sizeof(key), "github, Explore");
	action_name(&t, "mcp-server", "github", n, sizeof(n));
	ASSERT_STR_EQ(n, "github");
	action_name(&t, "mcp-server", "internal-db", n, sizeof(n));
	ASSERT_EQ(strlen(n), 18);
	ASSERT(strncmp(n, "h:", 2) == 0);
	/* a later copy of the call in another session, and an unknown result before the decided one */
	memset(&c, 0, sizeof(c));
	c.tool = EVENT_TOOL_CLAUDE;
	c.key = "toolu_1";
	c.ts_ms = 2000;
	c.session = "b";
	c.kind = ACTION_EDIT;
	c.tool_name = "Edit";
	c.prop_added = 3;
	ASSERT_EQ(action_add_call(&t, &c), 0);
	c.ts_ms = 1000;
	c.session = "z";
	ASSERT_EQ(action_add_call(&t, &c), 0);
	c.session = "a";
	ASSERT_EQ(action_add_call(&t, &c), 0);
	memset(&r, 0, sizeof(r));
	r.tool = EVENT_TOOL_CLAUDE;
	r.key = "toolu_1";
	r.what = ACTION_RES_CLAUDE;
	r.ts_ms = 1500;
	r.decision = ACTION_UNKNOWN;
	ASSERT_EQ(action_add_result(&t, &r), 0);
	r.ts_ms = 3000;
	r.decision = ACTION_ACCEPTED;
	ASSERT_EQ(action_add_result(&t, &r), 0);
	r.ts_ms = 4000;
	r.decision = ACTION_REJECTED;
	ASSERT_EQ(action_add_result(&t, &r), 0);
	ASSERT_EQ(t.n, 1);
	ASSERT(action_table_get(&t, 0, &rec));
	ASSERT_EQ(rec.ts_ms, 1000);
	ASSERT_STR_EQ(rec.session, "a");
	ASSERT_EQ(rec.decision, ACTION_ACCEPTED);
	ASSERT_UINT_EQ(rec.lines_added, 3);
	ASSERT(!rec.in_subagent);

	/* the wire size of this record, a typical edit */
	am_action_record w;
	rec.project = "0123456789abcdef0123456789abcdef";
	rec.session = "7d0c5e9e-1c4b-4f3e-9a51-2f6c0d1e8b11";
	memcpy(rec.file_ext, "py", 3);
	rec.lines_removed = 1;
	rec.proposed_added = 3;
	rec.proposed_removed = 1;
	action_wire_fill(&rec, "ana@example.com", "", &w);
	size_t size = aimeter__v1__action_record__get_packed_size(&w);
	printf("wire size of one edit action record: %zu bytes before zstd\n", size);
	ASSERT_LT(size, 160);
	ASSERT(!action_wire_allowed(0));
	ASSERT(!action_wire_allowed(1));
	ASSERT(action_wire_allowed(2));
	action_table_finish(&t);
}

int
main(void)
{
	RUN(lines);
	RUN(patch);
	RUN(ext);
	RUN(shell);
	RUN(argv);
	RUN(names_and_merge);
	return 0;
}
