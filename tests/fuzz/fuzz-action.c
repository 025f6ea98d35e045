/*
 * fuzz-action.c: untrusted text through the action rules: the shell
 * splitter and recognisers, the patch and trim line counters, the file
 * extension, and whole Claude and Codex lines through their sources with
 * an action table (calls, results, names, decisions). The first byte
 * picks the target.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "action-lines.h"
#include "action-shell.h"
#include "action.h"
#include "fuzz-source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
read_as(enum event_tool tool, const char *rel, const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = {1};
	struct action_table t;
	struct action_rec rec;

	action_table_init(&t, key, sizeof(key), "github, Explore");
	fuzz_read_with(tool, rel, data, size, &t);
	for (size_t i = 0; i < t.n; i++) {
		(void)action_table_get(&t, i, &rec);
	}
	free(action_table_sort(&t));
	action_table_finish(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n = size > 0 ? size - 1 : 0;
	struct shell_facts f;
	uint32_t a, r;
	char ext[12];
	const char *first;
	size_t first_n;

	if (size == 0) {
		return 0;
	}
	switch (data[0] % 6) {
	case 0:
		if (shell_script(s, n, &f) == 0) {
			shell_facts_finish(&f);
		}
		break;
	case 1:
		action_patch_lines(s, n, &a, &r, &first, &first_n);
		break;
	case 2: {
		const char *nul = memchr(s, '\0', n);
		size_t k = nul != NULL ? (size_t)(nul - s) : n / 2;
		(void)action_trim(s, k, s + k, n - k, &a, &r);
		break;
	}
	case 3:
		action_file_ext(s, n, ext);
		break;
	case 4:
		read_as(EVENT_TOOL_CLAUDE, "projects/p/s.jsonl", data + 1, n);
		break;
	default:
		read_as(EVENT_TOOL_CODEX, "sessions/2026/11/03/rollout-x.jsonl", data + 1, n);
		break;
	}
	return 0;
}
