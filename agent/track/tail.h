/*
 * tail.h: `collect`, one incremental pass with its state in a directory:
 * the tracking engine (track.h) saved in files.state, and the ids handed
 * out in seen.bin (seen.h). Newly settled events are written as JSONL.
 * Both files are replaced atomically (write, fsync, rename, fsync the
 * directory), the ids before the state that no longer holds them.
 */
#ifndef AM_AGENT_TAIL_H
#define AM_AGENT_TAIL_H

#include <stdint.h>
#include <stdio.h>

#include "scan.h"

struct tail_stats {
	uint64_t files, unchanged, appended, reread, new_files, removed;
	uint64_t emitted, pending;
};

/*
 * tail_pass(s, roots, n, state_dir, settle_seconds, now_ms, team_hint,
 * emit, ret_stats): one incremental pass. Newly settled events are written
 * as JSONL to emit (may be NULL) using team_hint. Returns 0 or a negative
 * errno (state dir).
 */
int tail_pass(struct scan *s, const struct scan_root *roots, size_t n, const char *state_dir,
	      uint64_t settle_seconds, int64_t now_ms, const char *team_hint, FILE *emit,
	      struct tail_stats *ret_stats);

#endif
