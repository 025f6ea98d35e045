/*
 * follow.h: the daemon's reading side, between the tracking engine (track.h) and the
 * spool: one pass reads what is new under every root and returns the newly
 * settled events packed for the spool, together with the readers' state
 * that produced them. Nothing in memory advances until follow_commit, which
 * the daemon calls only after spool_append made both durable.
 */
#ifndef AM_FOLLOW_H
#define AM_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct follow;

#define FOLLOW_CHUNK_EVENTS 5000

/* Events of one spool record (spool_events_pack blob). */
struct follow_chunk {
	uint8_t *events;
	size_t events_len;
	uint32_t n_events;
};

/*
 * A pass's output. The daemon appends one DATA record per chunk; only the
 * last one carries the state, so a crash between them leaves the positions
 * where they were (the events are read again and deduplicated by id).
 */
struct follow_out {
	struct follow_chunk *chunks; /* malloc'd, freed by follow_out_finish */
	size_t n_chunks;
	uint32_t n_events;
	/* action records for the action spool, appended (and follow_commit_actions
	 * called) before the usage records and their state */
	struct follow_chunk *action_chunks;
	size_t n_action_chunks;
	uint32_t n_actions;
	uint8_t *state; /* state delta for the last DATA record */
	size_t state_len;
	int64_t next_settle_ms; /* when a pending response settles; 0: none */
};

/*
 * follow_create(cfg, ret_follow): roots, identities and the project key from
 * cfg (borrowed for the call). Returns 0 or a negative errno.
 */
int follow_create(const struct agent_config *cfg, struct follow **ret_follow);
void follow_destroy(struct follow *f);

/*
 * follow_reload_key(f, cfg): read the project key file again (enrollment
 * has just written the organisation's key). Returns 0 or a negative errno.
 */
int follow_reload_key(struct follow *f, const struct agent_config *cfg);

/* follow_pass(f, now_ms, ret_out): one incremental pass over every root. */
int follow_pass(struct follow *f, int64_t now_ms, struct follow_out *ret_out);
void follow_out_finish(struct follow_out *out);

/*
 * What the readers skipped: links not followed and files owned by another
 * user (all-users mode) in the last pass (the same ones are met again each
 * pass), and usage lines dropped as implausible since the start.
 */
struct follow_skips {
	uint64_t links, foreign, implausible;
};
void follow_get_skips(const struct follow *f, struct follow_skips *ret);

/* follow_commit(f) after the pass's record is durable; follow_abort(f) if not. */
void follow_commit(struct follow *f);
void follow_abort(struct follow *f);

/*
 * follow_commit_actions(f): the pass's action records are in the action
 * spool, even if its usage record fails now (follow_commit does it too).
 */
void follow_commit_actions(struct follow *f);

struct spool;
/*
 * follow_note_spooled_actions(f, actions, now_ms): at startup, the records in the action spool
 * count as handed out. 0 or a negative errno.
 */
int follow_note_spooled_actions(struct follow *f, struct spool *actions, int64_t now_ms);

/* Directories worth a file-system watch (roots and their subdirectories). */
size_t follow_dirs(struct follow *f, const char *const **ret_dirs);

/* For the spool (struct spool_state_ops); opaque is the struct follow. */
int follow_snapshot(void *opaque, uint8_t **ret_blob, size_t *ret_len);
int follow_restore(void *opaque, const uint8_t *blob, size_t len, bool is_snapshot);

#endif
