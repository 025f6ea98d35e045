/*
 * storage.h: the daemon's record of writes to its state directory failing
 * (a full disk, a quota), for `aimeter-agent status`.
 *
 * When the disk is full, the usual status files (written to a temporary
 * file, then renamed) cannot be written either. So this one is made and
 * filled once, while there is space, and afterwards only overwritten in
 * place with a record of the same size: that needs no new blocks.
 *
 * While a spool write fails, the daemon stops reading new log data (its
 * positions stay, the logs stay on disk), tries again every few seconds, and
 * resumes by itself once a write succeeds.
 */
#ifndef AM_AGENT_STORAGE_H
#define AM_AGENT_STORAGE_H

#include <stdint.h>

struct storage {
	int fd;           /* the status file; -1: could not be made (then only the log says) */
	int error;        /* 0, or the negative errno of the failing write */
	int64_t since_ms; /* when it started failing */
	uint64_t failures;
};

/* storage_open(st, state_dir): make or reopen state_dir/storage. Never fails: see fd. */
void storage_open(struct storage *st, const char *state_dir);

/*
 * storage_note(st, error, now_ms): the result of a write to the state
 * directory (0 or a negative errno). Logs the first failure and the
 * recovery, and records the change in the file.
 */
void storage_note(struct storage *st, int error, int64_t now_ms);

/* storage_close(st): accepts a zeroed or never-opened struct. */
void storage_close(struct storage *st);

/*
 * storage_read(state_dir, ret_error, ret_since_ms, ret_pid): what the daemon
 * last recorded, and its pid (the status file, which names it too, cannot be
 * rewritten on a full disk). Returns 0 (with *ret_error 0 when writes work)
 * or -ENOENT.
 */
int storage_read(const char *state_dir, int *ret_error, int64_t *ret_since_ms, long *ret_pid);

#endif
