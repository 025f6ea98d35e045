/*
 * test-agent-project.c: keyed-hash project labels (HMAC-SHA-256, vectors
 * from Python's hmac) and their cache, whose last-entry shortcut must give
 * what a full lookup gives whatever order sessions come in.
 */
#include "project.h"
#include "test.h"

#define A "/nonexistent-aimeter/a"
#define B "/nonexistent-aimeter/b"
#define REMOTE "https://user:secret@github.com/o/r.git"

TEST(keyed_hash_vectors)
{
	struct project p;

	project_init(&p, PROJECT_KEYED_HASH, (const uint8_t *)"test-key", 8);
	ASSERT_STR_EQ(project_label(&p, NULL, A, NULL), "d4cdda019b3aa543423aecb4a7df8033");
	ASSERT_STR_EQ(project_label(&p, NULL, B, NULL), "b88e6dbb450dd525eb708eeb0a2afc69");
	/* the remote wins over the directory, without its credentials */
	ASSERT_STR_EQ(project_label(&p, REMOTE, A, NULL), "cd963ee3298d410908d592db37663dc0");
	ASSERT_STR_EQ(project_label(&p, NULL, "", NULL), "");
	project_finish(&p);
}

TEST(cache_in_any_order)
{
	static const char *const remotes[] = {NULL, "", REMOTE, "https://github.com/o/r"};
	static const char *const dirs[] = {A, B, A "/sub", ""};
	struct owned strict = {true, 1000, 0}, loose = {false, 1000, 0};
	char first[4][4][PROJECT_LABEL_MAX];
	struct project p;
	const char *l;

	project_init(&p, PROJECT_KEYED_HASH, (const uint8_t *)"test-key", 8);
	for (int r = 0; r < 4; r++) {
		for (int d = 0; d < 4; d++) {
			snprintf(first[r][d], sizeof(first[r][d]), "%s",
				 project_label(&p, remotes[r], dirs[d], NULL));
		}
	}
	/* pairs in a scrambled order, each twice in a row (the shortcut) */
	for (int k = 0; k < 64; k++) {
		int r = (k * 7) % 4, d = (k * 5 + k / 4) % 4;
		for (int rep = 0; rep < 2; rep++) {
			ASSERT_STR_EQ(project_label(&p, remotes[r], dirs[d], NULL), first[r][d]);
		}
	}
	/* NULL and "" are the same remote; a loose owner is no owner */
	ASSERT_STR_EQ(project_label(&p, "", A, &loose), first[0][0]);
	size_t n = p.n;
	/* a strict owner has entries of its own, with the same labels here */
	l = project_label(&p, NULL, A, &strict);
	ASSERT_STR_EQ(l, first[0][0]);
	ASSERT_UINT_EQ(p.n, n + 1);
	ASSERT_STR_EQ(project_label(&p, NULL, A, NULL), first[0][0]);
	ASSERT(project_label(&p, NULL, A, &strict) == l);
	ASSERT_UINT_EQ(p.n, n + 1);
	project_finish(&p);
}

int
main(void)
{
	RUN(keyed_hash_vectors);
	RUN(cache_in_any_order);
	return 0;
}
