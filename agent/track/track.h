/*
 * track.h: the tracking engine, one for `collect` and the daemon.
 *
 * It owns, per file a walk finds: its identity (device, inode, size, mtime,
 * a fingerprint of its first bytes and one of the bytes just before the
 * offset), the offset after its last complete line and its source's cursor;
 * and, in the scan's ledger, the responses still pending (not settled).
 *
 * A pass stats every file; an unchanged one (same identity, size and mtime)
 * is not even opened. A file that grew is read from the offset once both
 * fingerprints still match; one that shrank or whose fingerprints differ
 * was truncated or replaced and is read again from its start (event ids keep
 * that from counting twice). New files are read whole. A file gone is
 * forgotten. A response settles when a later record of its file belongs to
 * another response, when its file has been quiet for the settle time, or
 * when its file is gone or replaced.
 *
 * State is saved in one encoding (track_encode), by two back ends: the
 * daemon's spool record (ship/follow.c, durable with the events it
 * produced) and `collect`'s state file (tail.c). It holds no path and no
 * text a user wrote: a file is known by a keyed hash of its path, and its
 * source's cursor keeps labels, not working directories.
 *
 * Blob (little endian): u32 magic "TRK2", u32 flags (1: snapshot), u32
 * n_files, files, u32 n_pending, pending responses. A file: 16-byte key,
 * u32 flags (1: removed; 2: has an open response), and unless removed:
 * u32 tool | origin << 8, nine u64 (dev, ino, size, mtime_ns, offset,
 * head_len, head_fp, tail_len, tail_fp), the 16-byte open id, u32 length
 * and the source's cursor. A pending response: id, u32 tool | origin << 8 |
 * sidechain << 24, u64 time, seven u64 counters, then model, session,
 * project, speed and tier as u32 length and bytes. The daemon's first
 * format ("FOL1", fixed Codex fields) is still read.
 */
#ifndef AM_AGENT_TRACK_H
#define AM_AGENT_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan.h"

#define TRACK_FP_BYTES 4096

struct track_file {
	uint8_t key[16]; /* hash of the path: the only identity that is saved */
	char *path;      /* in memory only; NULL until a walk finds it again */
	uint8_t tool;
	uint16_t origin;
	uint64_t dev, ino, size, mtime_ns;
	uint64_t head_len, head_fp, tail_len, tail_fp;
	struct scan_cursor cur;
	bool visited, changed, removed;
	bool reread; /* in memory: read from its start at the next pass (ship/follow.c) */
	int64_t seen_ms; /* in memory: this clock at the first pass that knew this mtime; 0: none yet */
};

struct track_stats {
	uint64_t files, unchanged, appended, reread, new_files, removed;
};

struct track {
	struct scan *scan; /* borrowed: walks, reads and holds the ledger */
	uint64_t settle_ms;
	struct track_file *files;
	size_t n_files, cap_files;
	size_t *slots; /* key -> index + 1, open addressing */
	size_t n_slots;
	struct track_stats st;    /* of the last pass */
	int64_t next_settle_ms;   /* when a pending response settles; 0: none */
	/* called after each file read, e.g. to note which file new tool calls came from */
	void (*after_read)(void *ctx, const struct track_file *fs);
	void *after_read_ctx;
};

/* track_init(t, s, settle_seconds): an engine with no files over scan s (borrowed). */
void track_init(struct track *t, struct scan *s, uint64_t settle_seconds);

/* track_finish(t): free; accepts a zeroed struct. */
void track_finish(struct track *t);

/*
 * track_pass(t, roots, n, now_ms): walk every root, read what is new,
 * settle what is final as of now_ms; files not found are marked removed.
 * Touched files are marked changed until track_commit.
 */
void track_pass(struct track *t, const struct scan_root *roots, size_t n, int64_t now_ms);

/* track_changed(t): whether any file changed (or went away) since the last commit. */
bool track_changed(const struct track *t);

/*
 * track_take_settled(t, ret_idx, ret_n): the ledger indexes of responses
 * settled and not yet handed out (malloc'd, the caller frees). Implausible
 * ones (from damaged state) are dropped and counted instead. 0 or -ENOMEM.
 */
int track_take_settled(struct track *t, size_t **ret_idx, size_t *ret_n);

/* track_pending(t): responses not settled yet. */
size_t track_pending(const struct track *t);

/* track_commit(t): forget removed files, clear changed marks. */
void track_commit(struct track *t);

/*
 * track_compact(t): rebuild the ledger with only the pending responses
 * (handed-out ones are not needed again), so memory stays flat.
 */
int track_compact(struct track *t);

/*
 * track_encode(t, snapshot, ret_blob, ret_len): the state as a blob:
 * everything (snapshot) or the files changed since the last commit
 * (delta); both with every pending response. 0 or -ENOMEM.
 */
int track_encode(const struct track *t, bool snapshot, uint8_t **ret_blob, size_t *ret_len);

/*
 * track_decode(t, blob, len, is_snapshot): apply a snapshot (replaces the
 * files) or a delta (updates them); the pending responses replace the
 * ledger's. Returns 0, -EBADMSG (what was read so far stays) or -ENOMEM.
 */
int track_decode(struct track *t, const uint8_t *blob, size_t len, bool is_snapshot);

/* track_reset(t): no files, an empty ledger. */
void track_reset(struct track *t);

/* track_path_key(path, ret_key): the saved identity of a path (SHA-256 under its own domain). */
void track_path_key(const char *path, uint8_t ret_key[16]);

/* track_add_file(t, key): a new file entry (zeroed), or NULL. */
struct track_file *track_add_file(struct track *t, const uint8_t key[16]);

/*
 * track_legacy_cursor(fs, has_prev, spawn, totals_start, model, session,
 * label): set a Codex file's cursor from the fields the old formats (FOL1,
 * the text state file) kept: five totals then the start time. Other tools
 * kept nothing. 0 or a negative errno.
 */
int track_legacy_cursor(struct track_file *fs, bool has_prev, bool spawn,
			const uint64_t totals_start[6], const char *model, const char *session,
			const char *label);

/*
 * track_quiet_due(fs, settle_ms): when fs has been quiet for settle_ms. From
 * its mtime, or from when this clock first saw that mtime if that is earlier:
 * a file stamped in this clock's future (the clock went back, or the file
 * came from a machine ahead) still settles after settle_ms, not after the
 * clock catches up.
 */
int64_t track_quiet_due(const struct track_file *fs, uint64_t settle_ms);

/* track_find(t, key): the file entry of key, or NULL. */
struct track_file *track_find(const struct track *t, const uint8_t key[16]);

#endif
