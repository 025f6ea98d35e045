/*
 * gen-seeds-follow-state.c OUTDIR CLAUDE_ROOT CODEX_ROOT: seeds for
 * fuzz-follow-state, written by the real follow.c and track.c: a pass's delta (files
 * and pending responses) and the full snapshot after it, each behind the
 * target's mode byte (0: delta, 1: snapshot).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "follow.h"
#include "log.h"

static void
put(const char *dir, const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(&mode, 1, 1, f) != 1 || (n > 0 && fwrite(p, n, 1, f) != 1) ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct agent_config cfg;
	struct follow *f;
	struct follow_out out;
	uint8_t *snap;
	size_t snap_len;

	if (argc != 4) {
		fprintf(stderr, "usage: gen-seeds-follow-state OUTDIR CLAUDE_ROOT CODEX_ROOT\n");
		return 2;
	}
	log_init("gen-seeds", LOG_LEVEL_ERROR);
	config_defaults(&cfg);
	cfg.label_policy = PROJECT_NONE;
	snprintf(cfg.source_dirs[EVENT_TOOL_CLAUDE], sizeof(cfg.source_dirs[0]), "%s", argv[2]);
	snprintf(cfg.source_dirs[EVENT_TOOL_CODEX], sizeof(cfg.source_dirs[0]), "%s", argv[3]);
	cfg.settle_seconds = 1000000000; /* keep Claude responses pending */
	if (follow_create(&cfg, &f) < 0 || follow_pass(f, 1789000000000LL, &out) < 0) {
		return 1;
	}
	put(argv[1], "pass-delta", 0, out.state, out.state_len);
	follow_out_finish(&out);
	follow_commit(f);
	if (follow_snapshot(f, &snap, &snap_len) < 0) {
		return 1;
	}
	put(argv[1], "snapshot", 1, snap, snap_len);
	free(snap);
	follow_destroy(f);
	return 0;
}
