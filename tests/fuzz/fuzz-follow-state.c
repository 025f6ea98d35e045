/*
 * fuzz-follow-state.c: the daemon's reading state (the tracking engine's
 * blob, kept in the spool; the first format FOL1 too) on arbitrary bytes. The first byte chooses snapshot or delta;
 * the rest is restored, then written out, restored and written again (the
 * two must be equal), then a pass runs over it (roots that do not exist:
 * every file is forgotten, every pending response settles and is packed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "follow.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct follow *
fuzz_follow(void)
{
	static struct follow *f;
	struct agent_config cfg;

	if (f != NULL) {
		return f;
	}
	log_init("fuzz", LOG_LEVEL_ERROR);
	config_defaults(&cfg);
	cfg.label_policy = PROJECT_NONE; /* no key file */
	snprintf(cfg.source_dirs[EVENT_TOOL_CLAUDE], sizeof(cfg.source_dirs[0]), "/nonexistent/aimeter-fuzz/claude");
	snprintf(cfg.source_dirs[EVENT_TOOL_CODEX], sizeof(cfg.source_dirs[0]), "/nonexistent/aimeter-fuzz/codex");
	cfg.settle_seconds = 1;
	if (follow_create(&cfg, &f) < 0) {
		abort();
	}
	return f;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[16] = {'F', 'O', 'L', '1', 1};
	struct follow *f = fuzz_follow();
	struct follow_out out;
	uint8_t *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0;

	if (size < 1) {
		return 0;
	}
	if (follow_restore(f, data + 1, size - 1, (data[0] & 1) != 0) == 0 &&
	    follow_snapshot(f, &a, &a_len) == 0) {
		if (follow_restore(f, a, a_len, true) != 0 || follow_snapshot(f, &b, &b_len) != 0 ||
		    a_len != b_len || memcmp(a, b, a_len) != 0) {
			__builtin_trap(); /* what the agent writes, it must read back the same */
		}
		if (follow_pass(f, INT64_MAX / 2, &out) == 0) {
			follow_out_finish(&out);
			follow_commit(f);
		} else {
			follow_abort(f);
		}
	}
	free(a);
	free(b);
	if (follow_restore(f, empty, sizeof(empty), true) != 0) { /* the next input starts empty */
		__builtin_trap();
	}
	return 0;
}
