/* follow-actions.c: the daemon's action records; see follow-actions.h. */
#include "follow-actions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

/* The table is dropped (and built again from what is read next) at this size when nothing waits. */
#define FA_RESET_AT 4096

enum fa_state {
	FA_OPEN,         /* not handed out */
	FA_SENT_UNKNOWN, /* handed out as unknown; handed out again once decided */
	FA_DONE,         /* handed out decided, or never will be */
};

void
fa_init(struct follow_actions *fa, const uint8_t *key, size_t key_len, const char *allow,
	uint64_t settle_seconds, const char *seen_dir)
{
	memset(fa, 0, sizeof(*fa));
	fa->key = key;
	fa->key_len = key_len;
	fa->allow = allow;
	fa->settle_ms = settle_seconds * 1000;
	snprintf(fa->seen_dir, sizeof(fa->seen_dir), "%s", seen_dir != NULL ? seen_dir : "");
	action_table_init(&fa->table, key, key_len, allow);
}

void
fa_set_key(struct follow_actions *fa, const uint8_t *key, size_t key_len)
{
	fa->key = key;
	fa->key_len = key_len;
	fa->table.key = key;
	fa->table.key_len = key_len;
}

void
fa_finish(struct follow_actions *fa)
{
	action_table_finish(&fa->table);
	seen_finish(&fa->seen);
	free(fa->side);
	free(fa->open);
	free(fa->emit);
	memset(fa, 0, sizeof(*fa));
}

/* The seen key of a record handed out as unknown: the id with its last byte flipped. */
static void
unknown_key(const uint8_t id[16], uint8_t ret[16])
{
	memcpy(ret, id, 16);
	ret[15] ^= 0xff;
}

void
fa_after_read(struct follow_actions *fa, const struct track_file *fs)
{
	size_t n = fa->table.n;

	if (n > fa->cap_side) {
		size_t cap = fa->cap_side ? fa->cap_side : 256;
		while (cap < n) {
			cap *= 2;
		}
		struct fa_side *side = realloc(fa->side, cap * sizeof(*side));
		size_t *open = realloc(fa->open, cap * sizeof(*open));
		if (side != NULL) {
			fa->side = side;
		}
		if (open != NULL) {
			fa->open = open;
			fa->cap_open = cap;
		}
		if (side == NULL || open == NULL) {
			return; /* the next file's hook tries again; these lack only their file */
		}
		fa->cap_side = cap;
	}
	for (size_t i = fa->mark; i < n; i++) {
		memcpy(fa->side[i].file, fs->key, 16);
		fa->side[i].state = FA_OPEN;
		fa->side[i].going = false;
		fa->open[fa->n_open++] = i;
	}
	fa->mark = n;
}

/* Quiet for the settle time (or gone): a call of the file without a result is final. */
static bool
file_quiet(const struct follow_actions *fa, const struct track *t, const uint8_t key[16],
	   int64_t now_ms, int64_t *next_ms)
{
	const struct track_file *fs = track_find(t, key);
	int64_t due;

	if (fs == NULL || fs->removed) {
		return true;
	}
	due = track_quiet_due(fs, fa->settle_ms);
	if (due <= now_ms) {
		return true;
	}
	if (*next_ms == 0 || due < *next_ms) {
		*next_ms = due;
	}
	return false;
}

/* Load the seen ids for records up to emit_max_ms; false (warned) without them. */
static bool
load_seen(struct follow_actions *fa, int64_t now_ms, int64_t emit_max_ms)
{
	int r;

	seen_finish(&fa->seen);
	if (fa->seen_dir[0] == '\0') {
		return false;
	}
	r = mkdir(fa->seen_dir, 0700) < 0 && errno != EEXIST ? -errno : 0;
	if (r == 0) {
		r = seen_load(&fa->seen, fa->seen_dir, now_ms, emit_max_ms);
	}
	if (r < 0) {
		log_warnx("could not read the handed-out action ids in \"%s\": %s", fa->seen_dir,
			  strerror(-r));
		seen_finish(&fa->seen);
		return false;
	}
	return true;
}

int
fa_pass(struct follow_actions *fa, const struct track *t, int64_t now_ms, int64_t *next_ms)
{
	struct action_rec rec;
	int64_t emit_max_ms = INT64_MIN;
	size_t kept = 0;

	fa->n_emit = 0;
	fa->emitted_committed = false;
	free(fa->emit);
	fa->emit = NULL;
	if (fa->n_open == 0) {
		return 0;
	}
	fa->emit = malloc(fa->n_open * sizeof(*fa->emit));
	if (fa->emit == NULL) {
		return -ENOMEM;
	}
	/* candidates: decided ones, and open ones whose file is quiet */
	for (size_t k = 0; k < fa->n_open; k++) {
		size_t i = fa->open[k];
		struct fa_side *sd = &fa->side[i];
		bool has = action_table_get(&fa->table, i, &rec);
		if (has && rec.decision != ACTION_UNKNOWN) {
			fa->emit[fa->n_emit++] = (struct fa_emit){i, false};
		} else if (sd->state == FA_OPEN && file_quiet(fa, t, sd->file, now_ms, next_ms)) {
			if (has) {
				fa->emit[fa->n_emit++] = (struct fa_emit){i, true};
			} else {
				sd->state = FA_DONE; /* results of a call never read: nothing to ship */
				continue;
			}
		} else {
			fa->open[kept++] = i;
			continue;
		}
		emit_max_ms = rec.ts_ms > emit_max_ms ? rec.ts_ms : emit_max_ms;
		fa->open[kept++] = i; /* leaves the list at fa_commit */
	}
	fa->n_open = kept;
	if (fa->n_emit == 0) {
		return 0;
	}
	if (!load_seen(fa, now_ms, emit_max_ms)) {
		for (size_t k = 0; k < fa->n_emit; k++) {
			fa->side[fa->emit[k].idx].going = true;
		}
		return 0;
	}
	/* already handed out (before a restart, from another copy): not again */
	kept = 0;
	for (size_t k = 0; k < fa->n_emit; k++) {
		struct fa_emit *em = &fa->emit[k];
		uint8_t uk[16];
		(void)action_table_get(&fa->table, em->idx, &rec);
		unknown_key(rec.id, uk);
		if (seen_has(&fa->seen, rec.id)) {
			fa->side[em->idx].state = FA_DONE;
		} else if (em->unknown && seen_has(&fa->seen, uk)) {
			fa->side[em->idx].state = FA_SENT_UNKNOWN;
		} else {
			fa->side[em->idx].going = true;
			fa->emit[kept++] = *em;
		}
	}
	fa->n_emit = kept;
	return 0;
}

void
fa_get(const struct follow_actions *fa, size_t k, struct action_rec *ret)
{
	(void)action_table_get(&fa->table, fa->emit[k].idx, ret);
	if (fa->emit[k].unknown) {
		ret->decision = ACTION_UNKNOWN;
	}
}

/* Drop what left the open list; reset the table when it is large and nothing waits. */
static void
prune(struct follow_actions *fa)
{
	size_t kept = 0;
	bool waiting = false;

	for (size_t k = 0; k < fa->n_open; k++) {
		size_t i = fa->open[k];
		if (fa->side[i].state == FA_DONE) {
			continue;
		}
		waiting = waiting || fa->side[i].state == FA_OPEN;
		fa->open[kept++] = i;
	}
	fa->n_open = kept;
	if (fa->table.n >= FA_RESET_AT && !waiting) {
		/*
		 * Memory stays flat: a copy read later makes a new entry, and the
		 * seen ids keep it from going out twice. A call shipped unknown
		 * and decided after this is not shipped again (B.6 is lost for it).
		 */
		action_table_finish(&fa->table);
		action_table_init(&fa->table, fa->key, fa->key_len, fa->allow);
		fa->n_open = 0;
		fa->mark = 0;
	}
}

void
fa_commit(struct follow_actions *fa)
{
	struct action_rec rec;
	int r = 0;

	if (fa->emitted_committed) {
		return;
	}
	fa->emitted_committed = true;
	for (size_t k = 0; k < fa->n_emit; k++) {
		uint8_t key[16];
		fa_get(fa, k, &rec);
		fa->side[fa->emit[k].idx].going = false;
		fa->side[fa->emit[k].idx].state = fa->emit[k].unknown ? FA_SENT_UNKNOWN : FA_DONE;
		if (fa->emit[k].unknown) {
			unknown_key(rec.id, key);
		} else {
			memcpy(key, rec.id, 16);
		}
		if (r >= 0 && fa->seen.loaded) {
			r = seen_add_id(&fa->seen, key, rec.ts_ms);
		}
	}
	if (fa->seen.loaded && fa->n_emit > 0 && (r < 0 || (r = seen_sync(&fa->seen)) < 0)) {
		log_warnx("could not record handed-out action ids in \"%s\": %s", fa->seen_dir,
			  strerror(-r));
	}
	fa->n_emit = 0;
	prune(fa);
}

void
fa_abort(struct follow_actions *fa)
{
	for (size_t k = 0; k < fa->n_emit; k++) {
		fa->side[fa->emit[k].idx].going = false;
	}
	fa->n_emit = 0; /* they stay open and go with a later pass */
}

static int
cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

int
fa_pending_files(const struct follow_actions *fa, uint8_t (**ret)[16], size_t *ret_n)
{
	uint8_t(*keys)[16] = malloc((fa->n_open ? fa->n_open : 1) * sizeof(*keys));
	size_t n = 0, m = 0;

	if (keys == NULL) {
		return -ENOMEM;
	}
	for (size_t k = 0; k < fa->n_open; k++) {
		size_t i = fa->open[k];
		if (fa->side[i].state == FA_OPEN && !fa->side[i].going) {
			memcpy(keys[n++], fa->side[i].file, 16);
		}
	}
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (size_t k = 0; k < n; k++) {
		if (m == 0 || memcmp(keys[m - 1], keys[k], 16) != 0) {
			memcpy(keys[m++], keys[k], 16);
		}
	}
	*ret = keys;
	*ret_n = m;
	return 0;
}

int
fa_note_spooled(struct follow_actions *fa, am_action_record *const *a, size_t n, int64_t now_ms)
{
	int64_t max_ms = INT64_MIN;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		max_ms = a[i]->ts_ms > max_ms ? a[i]->ts_ms : max_ms;
	}
	if (n == 0 || !load_seen(fa, now_ms, max_ms)) {
		return 0;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		uint8_t key[16];
		if (a[i]->action_id.len != 16) {
			continue;
		}
		memcpy(key, a[i]->action_id.data, 16);
		if (a[i]->decision == AIMETER__V1__ACTION_DECISION__ACTION_DECISION_UNKNOWN) {
			unknown_key(a[i]->action_id.data, key);
		}
		r = seen_add_id(&fa->seen, key, a[i]->ts_ms);
	}
	return r < 0 ? r : seen_sync(&fa->seen);
}
