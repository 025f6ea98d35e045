/*
 * follow-actions.h: the daemon's action records (docs/actions.md, "The
 * daemon"), beside follow.c's usage. The readers fill one action table that
 * lives as long as the daemon; each pass hands out the calls that were
 * decided since, and, as `unknown`, those whose file has been quiet for the
 * action settle time (specs/outcomes.md B.5). A call shipped as unknown is
 * shipped again once decided (B.6).
 *
 * Ids handed out are kept in <state>/follow-actions/seen.bin (seen.h): a
 * decided record under its action id, an unknown one under the id with its
 * last byte flipped, so a restart, a re-read file or a copy never hands one
 * out twice. What survives a restart is the set of files holding calls not
 * yet decided (keyed path hashes, no text): follow.c saves it with the
 * readers' state, and those files are read again from their start.
 */
#ifndef AM_FOLLOW_ACTIONS_H
#define AM_FOLLOW_ACTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "action.h"
#include "batch.h"
#include "seen.h"
#include "track.h"

/* One table entry's place in the daemon. */
struct fa_side {
	uint8_t file[16]; /* track key of the file its first line came from */
	uint8_t state;    /* enum fa_state in follow-actions.c */
	bool going;       /* handed out by the pass in progress */
};

/* One record a pass hands out: the table index, as unknown or decided. */
struct fa_emit {
	size_t idx;
	bool unknown;
};

struct follow_actions {
	struct action_table table;
	const uint8_t *key; /* borrowed: the project key (action names) */
	size_t key_len;
	const char *allow;
	struct fa_side *side; /* parallel to table.v */
	size_t cap_side;
	size_t *open; /* indexes not yet handed out decided */
	size_t n_open, cap_open;
	size_t mark; /* table.n before the file being read */
	uint64_t settle_ms;
	char seen_dir[PATH_MAX];
	struct seen seen;
	/* a pass in progress */
	struct fa_emit *emit;
	size_t n_emit;
	bool emitted_committed; /* fa_commit ran for this pass */
};

/* fa_init(fa, key, key_len, allow, settle_seconds, seen_dir): all borrowed but seen_dir. */
void fa_init(struct follow_actions *fa, const uint8_t *key, size_t key_len, const char *allow,
	     uint64_t settle_seconds, const char *seen_dir);
void fa_finish(struct follow_actions *fa);

/* fa_set_key(fa, key, key_len): the project key was reloaded (enrollment). */
void fa_set_key(struct follow_actions *fa, const uint8_t *key, size_t key_len);

/* fa_after_read(fa, fs): track's after_read hook: new entries came from fs. */
void fa_after_read(struct follow_actions *fa, const struct track_file *fs);

/*
 * fa_pass(fa, t, now_ms, ret_next_ms): choose what this pass hands out
 * (fa->emit); *ret_next_ms is lowered to the time the next quiet file
 * settles a call. 0 or -ENOMEM.
 */
int fa_pass(struct follow_actions *fa, const struct track *t, int64_t now_ms,
	    int64_t *ret_next_ms);

/* fa_get(fa, k, ret): the k-th record handed out, as shipped (decision unknown when so). */
void fa_get(const struct follow_actions *fa, size_t k, struct action_rec *ret);

/* fa_commit(fa): the records handed out are spooled; fa_abort(fa): they are not. */
void fa_commit(struct follow_actions *fa);
void fa_abort(struct follow_actions *fa);

/*
 * fa_pending_files(fa, ret_keys, ret_n): the files holding calls not handed
 * out yet (malloc'd, distinct). 0 or -ENOMEM.
 */
int fa_pending_files(const struct follow_actions *fa, uint8_t (**ret_keys)[16], size_t *ret_n);

/*
 * fa_note_spooled(fa, a, n, now_ms): records already in the action spool at
 * startup count as handed out (a crash after they were spooled, before the
 * usage record with the positions was). 0 or a negative errno.
 */
int fa_note_spooled(struct follow_actions *fa, am_action_record *const *a, size_t n, int64_t now_ms);

#endif
