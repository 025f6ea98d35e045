/*
 * tail.h: incremental reading with per-file state kept in the state dir.
 *
 * For every file read, the state records its device, inode, size, mtime,
 * the offset after its last complete line, a fingerprint of its first bytes
 * and one of the bytes just before the offset, and (Codex) the running
 * totals and model. A pass stats every file; an unchanged one (same
 * identity, size and mtime) is not even opened. A file that grew is read
 * from the offset once both fingerprints still match; a file that shrank or
 * whose fingerprints differ was truncated or replaced and is read again from
 * its start (event ids keep that from counting twice). New files are read
 * whole; deleted files are forgotten.
 *
 * Claude responses stay pending until settled: a later line of their file
 * belongs to another response, or the file has been quiet for the settle
 * time. Pending responses are saved with the state, so they survive a
 * restart. The ids handed out are remembered (seen file, with each event's
 * time) so a copy read later is not handed out again, for events up to 60
 * days older than the newest one handed out (but not later than the clock):
 * older ids are forgotten, which bounds the file.
 * A copy of an event older than that, read again (a replaced file, a
 * resumed session copying old history), is handed out again; the
 * collector keeps the first row per event id, so it does not count twice. State files are replaced atomically
 * (write, fsync, rename, fsync the directory).
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
 * tail_pass(s, roots, n, state_dir, settle_seconds, now_ms, emit, ret_stats):
 * one incremental pass. Newly settled events are written as JSONL to emit
 * (may be NULL) using team_hint. Returns 0 or a negative errno (state dir).
 */
int tail_pass(struct scan *s, const struct scan_root *roots, size_t n, const char *state_dir,
	      uint64_t settle_seconds, int64_t now_ms, const char *team_hint, FILE *emit,
	      struct tail_stats *ret_stats);

/* tail_emit_jsonl(s, rec, team_hint, f): one event as the JSONL line of `scan --format jsonl`. */
void tail_emit_jsonl(const struct scan *s, const struct ledger_rec *rec, const char *team_hint,
		     FILE *f);

#endif
