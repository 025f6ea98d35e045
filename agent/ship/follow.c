/*
 * follow.c: the daemon's reading side; see follow.h.
 *
 * The tracking engine (track.h) reads and settles, as it does for
 * `collect`; here its state stays in memory and goes to the spool as the
 * engine's blob instead of a state file, so one fdatasync covers the events
 * and the positions they came from. The blob holds no text a user wrote and
 * no path (see track.h).
 */
#include "follow.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "action-wire.h"
#include "blob.h"
#include "follow-actions.h"
#include "log.h"
#include "request-ids.h"
#include "roots.h"
#include "scan.h"
#include "seen.h"
#include "spool.h"
#include "track.h"

#define COMPACT_AT 4096
#define STATE_MAGIC 0x31434146u /* "FAC1": the track blob, then the files with calls pending */

struct follow {
	struct project project;
	struct scan scan;
	struct track track;
	struct request_ids request_ids; /* of the events not handed out yet */
	struct scan_root *roots;
	size_t n_roots;
	char team_hint[256];
	/* ids handed out: the ledger forgets them on a restart and when it is
	 * compacted, and a copy read later (a sidechain replay of an old
	 * response, with a later time) must not be handed out again */
	char seen_dir[PATH_MAX];
	struct seen seen; /* loaded by a pass that settled something */

	/* a pass in progress */
	size_t *settled; /* ledger indexes settled by it */
	size_t n_settled;
	uint8_t *committed; /* full snapshot as of the last commit */
	size_t committed_len;
	bool in_pass;

	char **dirs;
	size_t n_dirs, cap_dirs;

	uint64_t links_last, foreign_last; /* skipped by the last pass */

	bool actions_on; /* [actions] ship */
	char allow[CONFIG_STR];
	struct follow_actions act;
};

/* --- directories to watch --------------------------------------------------------------------- */

static void
add_dir(struct follow *f, const char *dir)
{
	for (size_t i = 0; i < f->n_dirs; i++) {
		if (strcmp(f->dirs[i], dir) == 0) {
			return;
		}
	}
	if (f->n_dirs == f->cap_dirs) {
		size_t cap = f->cap_dirs ? f->cap_dirs * 2 : 32;
		char **g = realloc(f->dirs, cap * sizeof(*g));
		if (g == NULL) {
			return;
		}
		f->dirs = g;
		f->cap_dirs = cap;
	}
	char *d = strdup(dir);
	if (d != NULL) {
		f->dirs[f->n_dirs++] = d;
	}
}

static void
dirs_clear(struct follow *f)
{
	for (size_t i = 0; i < f->n_dirs; i++) {
		free(f->dirs[i]);
	}
	f->n_dirs = 0;
}

/* Every directory from the file up to (not above) its root. */
static void
add_parents(struct follow *f, const char *path)
{
	char dir[4096];
	size_t root_len = 0;

	for (size_t i = 0; i < f->n_roots; i++) {
		size_t n = strlen(f->roots[i].path);
		if (strncmp(path, f->roots[i].path, n) == 0 && path[n] == '/' && n > root_len) {
			root_len = n;
		}
	}
	snprintf(dir, sizeof(dir), "%s", path);
	for (;;) {
		char *slash = strrchr(dir, '/');
		if (slash == NULL || (size_t)(slash - dir) <= root_len) {
			break;
		}
		*slash = '\0';
		add_dir(f, dir);
	}
}

/* The roots, their top directories and every directory holding a file read. */
static void
collect_dirs(struct follow *f)
{
	dirs_clear(f);
	for (size_t i = 0; i < f->n_roots; i++) {
		char d[4200];
		add_dir(f, f->roots[i].path);
		snprintf(d, sizeof(d), "%s/%s", f->roots[i].path,
			 source_get(f->roots[i].tool)->watch_dir);
		add_dir(f, d);
	}
	for (size_t i = 0; i < f->track.n_files; i++) {
		const struct track_file *fs = &f->track.files[i];
		if (fs->path != NULL && !fs->removed) {
			add_parents(f, fs->path);
		}
	}
}

static Aimeter__V1__BillingMode
billing_mode(enum event_billing b)
{
	switch (b) {
	case EVENT_BILLING_SUBSCRIPTION:
		return AIMETER__V1__BILLING_MODE__BILLING_MODE_SUBSCRIPTION;
	case EVENT_BILLING_API:
		return AIMETER__V1__BILLING_MODE__BILLING_MODE_API;
	case EVENT_BILLING_CLOUD:
		return AIMETER__V1__BILLING_MODE__BILLING_MODE_CLOUD;
	default:
		return AIMETER__V1__BILLING_MODE__BILLING_MODE_UNKNOWN;
	}
}

static void
fill_event(struct follow *f, am_usage_event *e, struct ledger_rec *rec)
{
	const struct ledger *l = &f->scan.ledger;
	const struct scan_origin *o = &f->scan.origins[rec->origin];

	aimeter__v1__usage_event__init(e);
	e->event_id.data = rec->id;
	e->event_id.len = 16;
	e->ts_ms = rec->ts_ms;
	e->tool = (char *)event_tool_name((enum event_tool)rec->tool);
	e->model = (char *)ledger_str(l, rec->model);
	e->session = (char *)ledger_str(l, rec->session);
	e->project = (char *)ledger_str(l, rec->project);
	e->user = (char *)o->user;
	e->team_hint = f->team_hint;
	e->billing_mode = billing_mode(o->billing);
	e->input_tokens = rec->tok[EVENT_INPUT];
	e->output_tokens = rec->tok[EVENT_OUTPUT];
	e->cache_write_5m_tokens = rec->tok[EVENT_CACHE_WRITE_5M];
	e->cache_write_1h_tokens = rec->tok[EVENT_CACHE_WRITE_1H];
	e->cache_read_tokens = rec->tok[EVENT_CACHE_READ];
	e->reasoning_tokens = rec->tok[EVENT_REASONING];
	e->web_search_requests = rec->tok[EVENT_WEB_SEARCH];
	e->speed = (char *)ledger_str(l, rec->speed);
	e->service_tier = (char *)ledger_str(l, rec->tier);
	/* the ship sends it only to a collector that takes it (request-wire.h) */
	const char *rid = request_ids_get(&f->request_ids, rec->id);
	if (rid != NULL) {
		e->request_id = (char *)rid;
	}
}

static int
pack_events(struct follow *f, struct follow_out *out)
{
	size_t n_chunks = (f->n_settled + FOLLOW_CHUNK_EVENTS - 1) / FOLLOW_CHUNK_EVENTS;
	size_t per = f->n_settled < FOLLOW_CHUNK_EVENTS ? f->n_settled : FOLLOW_CHUNK_EVENTS;
	am_usage_event *ev;
	am_usage_event **pv;
	int r = 0;

	if (f->n_settled == 0) {
		return 0;
	}
	out->chunks = calloc(n_chunks, sizeof(*out->chunks));
	ev = calloc(per, sizeof(*ev));
	pv = calloc(per, sizeof(*pv));
	if (out->chunks == NULL || ev == NULL || pv == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t c = 0; c < n_chunks; c++) {
		size_t first = c * FOLLOW_CHUNK_EVENTS, n = f->n_settled - first;
		if (n > FOLLOW_CHUNK_EVENTS) {
			n = FOLLOW_CHUNK_EVENTS;
		}
		for (size_t i = 0; i < n; i++) {
			fill_event(f, &ev[i], ledger_at(&f->scan.ledger, f->settled[first + i]));
			pv[i] = &ev[i];
		}
		struct follow_chunk *ch = &out->chunks[c];
		r = spool_events_pack(pv, n, &ch->events, &ch->events_len);
		if (r < 0) {
			goto out;
		}
		ch->n_events = (uint32_t)n;
		out->n_chunks++;
	}
	out->n_events = (uint32_t)f->n_settled;
out:
	free(pv);
	free(ev);
	return r;
}

static void
after_read(void *ctx, const struct track_file *fs)
{
	fa_after_read(ctx, fs);
}

static int
pack_actions(struct follow *f, struct follow_out *out)
{
	size_t n = f->act.n_emit, n_chunks = (n + FOLLOW_CHUNK_EVENTS - 1) / FOLLOW_CHUNK_EVENTS;
	size_t per = n < FOLLOW_CHUNK_EVENTS ? n : FOLLOW_CHUNK_EVENTS;
	struct action_rec *recs;
	am_action_record *msg, **pv;
	int r = 0;

	if (n == 0) {
		return 0;
	}
	out->action_chunks = calloc(n_chunks, sizeof(*out->action_chunks));
	recs = calloc(per, sizeof(*recs));
	msg = calloc(per, sizeof(*msg));
	pv = calloc(per, sizeof(*pv));
	if (out->action_chunks == NULL || recs == NULL || msg == NULL || pv == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t c = 0; c < n_chunks; c++) {
		size_t first = c * FOLLOW_CHUNK_EVENTS, m = n - first;
		m = m > FOLLOW_CHUNK_EVENTS ? FOLLOW_CHUNK_EVENTS : m;
		for (size_t i = 0; i < m; i++) {
			fa_get(&f->act, first + i, &recs[i]);
			const char *user = recs[i].origin < f->scan.n_origins
						   ? f->scan.origins[recs[i].origin].user
						   : "";
			action_wire_fill(&recs[i], user, f->team_hint, &msg[i]);
			pv[i] = &msg[i];
		}
		struct follow_chunk *ch = &out->action_chunks[c];
		r = spool_actions_pack(pv, m, &ch->events, &ch->events_len);
		if (r < 0) {
			goto out;
		}
		ch->n_events = (uint32_t)m;
		out->n_action_chunks++;
	}
	out->n_actions = (uint32_t)n;
out:
	free(pv);
	free(msg);
	free(recs);
	return r;
}

/*
 * The saved state: "FAC1", u32 length and the track blob (track.h), u32 n
 * and the keys of the n files holding calls not handed out yet (read again
 * from their start after a restart).
 */
static int
state_encode(const struct follow *f, bool snapshot, uint8_t **ret, size_t *ret_len)
{
	struct blob_w b = {0};
	uint8_t *tb = NULL, (*keys)[16] = NULL;
	size_t tl = 0, nk = 0;
	int r = track_encode(&f->track, snapshot, &tb, &tl);

	if (r == 0 && f->actions_on) {
		r = fa_pending_files(&f->act, &keys, &nk);
	}
	if (r == 0) {
		blob_put32(&b, STATE_MAGIC);
		blob_put32(&b, (uint32_t)tl);
		blob_put(&b, tb, tl);
		blob_put32(&b, (uint32_t)nk);
		blob_put(&b, keys, 16 * nk);
		r = b.oom ? -ENOMEM : 0;
	}
	free(tb);
	free(keys);
	if (r < 0) {
		free(b.p);
		return r;
	}
	*ret = b.p;
	*ret_len = b.len;
	return 0;
}

/* set_reread: a restart, not follow_abort (whose table still holds the calls). */
static int
state_decode(struct follow *f, const uint8_t *blob, size_t len, bool is_snapshot, bool set_reread)
{
	struct blob_r rd = {blob, len, 0, false};
	const uint8_t *tb, *keys;
	uint32_t tl, nk;
	int r;

	if (blob_get32(&rd) != STATE_MAGIC) {
		/* an agent that did not read actions saved it: find them all once */
		r = track_decode(&f->track, blob, len, is_snapshot);
		for (size_t i = 0; r == 0 && i < f->track.n_files; i++) {
			f->track.files[i].reread = f->actions_on && set_reread;
		}
		return r;
	}
	tl = blob_get32(&rd);
	tb = blob_get(&rd, tl);
	nk = blob_get32(&rd);
	keys = rd.bad || nk > len / 16 ? NULL : blob_get(&rd, 16 * (size_t)nk);
	if (rd.bad || tb == NULL || (nk > 0 && keys == NULL)) {
		return -EBADMSG;
	}
	r = track_decode(&f->track, tb, tl, is_snapshot);
	if (r < 0) {
		return r;
	}
	/* every blob holds the whole set */
	for (size_t i = 0; i < f->track.n_files; i++) {
		f->track.files[i].reread = false;
	}
	for (size_t k = 0; k < nk && f->actions_on && set_reread; k++) {
		struct track_file *fs = track_find(&f->track, keys + 16 * k);
		if (fs != NULL) {
			fs->reread = true;
		}
	}
	return 0;
}

/*
 * Settled ids already handed out (seen.h) are not handed out again;
 * follow_commit adds the rest. Without the file (no state directory in
 * tests, or it cannot be read) the ledger alone decides, as it did before.
 */
static void
drop_seen(struct follow *f, int64_t now_ms)
{
	struct ledger *l = &f->scan.ledger;
	int64_t emit_max_ms = INT64_MIN;
	size_t kept = 0;
	int r;

	seen_finish(&f->seen);
	if (f->n_settled == 0 || f->seen_dir[0] == '\0') {
		return;
	}
	for (size_t i = 0; i < f->n_settled; i++) {
		const struct ledger_rec *rec = ledger_at(l, f->settled[i]);
		emit_max_ms = rec->ts_ms > emit_max_ms ? rec->ts_ms : emit_max_ms;
	}
	r = mkdir(f->seen_dir, 0700) < 0 && errno != EEXIST ? -errno : 0;
	if (r == 0) {
		r = seen_load(&f->seen, f->seen_dir, now_ms, emit_max_ms);
	}
	if (r < 0) {
		log_warnx("could not read the handed-out event ids in \"%s\": %s", f->seen_dir,
			  strerror(-r));
		seen_finish(&f->seen);
		return;
	}
	for (size_t i = 0; i < f->n_settled; i++) {
		struct ledger_rec *rec = ledger_at(l, f->settled[i]);
		if (seen_has(&f->seen, rec->id)) {
			rec->flags |= LEDGER_EMITTED; /* undone by follow_abort */
		} else {
			f->settled[kept++] = f->settled[i];
		}
	}
	f->n_settled = kept;
}

int
follow_pass(struct follow *f, int64_t now_ms, struct follow_out *out)
{
	struct scan *s = &f->scan;
	int r;

	memset(out, 0, sizeof(*out));
	f->in_pass = true;
	free(f->settled);
	f->settled = NULL;
	f->n_settled = 0;
	uint64_t links0 = s->stat[SCAN_UNSAFE], foreign0 = s->stat[SCAN_FOREIGN];
	track_pass(&f->track, f->roots, f->n_roots, now_ms);
	f->links_last = s->stat[SCAN_UNSAFE] - links0;
	f->foreign_last = s->stat[SCAN_FOREIGN] - foreign0;
	out->next_settle_ms = f->track.next_settle_ms;
	collect_dirs(f);
	r = track_take_settled(&f->track, &f->settled, &f->n_settled);
	if (r < 0) {
		return r;
	}
	drop_seen(f, now_ms);
	if (f->actions_on) {
		r = fa_pass(&f->act, &f->track, now_ms, &out->next_settle_ms);
		if (r == 0) {
			r = pack_actions(f, out);
		}
		if (r < 0) {
			follow_out_finish(out);
			return r;
		}
	}
	if (f->n_settled == 0 && !track_changed(&f->track)) {
		return 0;
	}
	r = pack_events(f, out);
	if (r == 0) {
		r = state_encode(f, false, &out->state, &out->state_len);
	}
	if (r < 0) {
		follow_out_finish(out);
	}
	return r;
}

void
follow_get_skips(const struct follow *f, struct follow_skips *ret)
{
	ret->links = f->links_last;
	ret->foreign = f->foreign_last;
	ret->implausible = f->scan.stat[SCAN_IMPLAUSIBLE];
}

void
follow_out_finish(struct follow_out *out)
{
	for (size_t i = 0; i < out->n_chunks; i++) {
		free(out->chunks[i].events);
	}
	free(out->chunks);
	for (size_t i = 0; i < out->n_action_chunks; i++) {
		free(out->action_chunks[i].events);
	}
	free(out->action_chunks);
	free(out->state);
	memset(out, 0, sizeof(*out));
}

void
follow_commit(struct follow *f)
{
	struct scan *s = &f->scan;
	int r = 0;

	for (size_t i = 0; i < f->n_settled; i++) {
		struct ledger_rec *rec = ledger_at(&s->ledger, f->settled[i]);
		rec->flags |= LEDGER_EMITTED;
		request_ids_del(&f->request_ids, rec->id); /* spooled with the event */
		if (r >= 0 && f->seen.loaded) {
			r = seen_add_id(&f->seen, rec->id, rec->ts_ms);
		}
	}
	if (f->seen.loaded && f->n_settled > 0 && (r < 0 || (r = seen_sync(&f->seen)) < 0)) {
		/* the events are spooled; only a copy read later could be sent again */
		log_warnx("could not record handed-out event ids in \"%s\": %s", f->seen_dir,
			  strerror(-r));
	}
	f->n_settled = 0;
	if (f->actions_on) {
		fa_commit(&f->act); /* no-op when follow_commit_actions ran */
	}
	track_commit(&f->track); /* forget removed files for good */
	if (s->ledger.n >= COMPACT_AT) {
		/* the pending records only: memory stays flat (on failure, as it was) */
		(void)track_compact(&f->track);
	}
	free(f->committed);
	f->committed = NULL;
	f->committed_len = 0;
	(void)state_encode(f, true, &f->committed, &f->committed_len); /* for follow_abort */
	f->in_pass = false;
}

void
follow_commit_actions(struct follow *f)
{
	if (f->actions_on) {
		fa_commit(&f->act);
	}
}

int
follow_note_spooled_actions(struct follow *f, struct spool *actions, int64_t now_ms)
{
	struct spool_stats st;
	struct spool_peek pk;
	int r;

	spool_get_stats(actions, &st);
	if (!f->actions_on || st.pending_events == 0) {
		return 0;
	}
	r = spool_peek(actions, (size_t)st.pending_events, &pk);
	if (r == 0) {
		r = fa_note_spooled(&f->act, pk.actions, pk.n_actions, now_ms);
		spool_peek_free(&pk);
	}
	return r;
}

void
follow_abort(struct follow *f)
{
	/* Back to the last committed state: nothing of the failed pass remains. */
	f->n_settled = 0;
	f->in_pass = false;
	if (f->actions_on) {
		fa_abort(&f->act);
	}
	if (f->committed == NULL ||
	    state_decode(f, f->committed, f->committed_len, true, false) < 0) {
		track_reset(&f->track);
	}
}

size_t
follow_dirs(struct follow *f, const char *const **ret)
{
	*ret = (const char *const *)f->dirs;
	return f->n_dirs;
}

int
follow_snapshot(void *opaque, uint8_t **ret_blob, size_t *ret_len)
{
	struct follow *f = opaque;

	if (f->in_pass && f->committed != NULL) {
		/* Mid-pass (a rotation before the pass's record): the committed state. */
		*ret_blob = malloc(f->committed_len);
		if (*ret_blob == NULL) {
			return -ENOMEM;
		}
		memcpy(*ret_blob, f->committed, f->committed_len);
		*ret_len = f->committed_len;
		return 0;
	}
	return state_encode(f, true, ret_blob, ret_len);
}

int
follow_restore(void *opaque, const uint8_t *blob, size_t len, bool is_snapshot)
{
	struct follow *f = opaque;
	int r = state_decode(f, blob, len, is_snapshot, true);

	if (r == 0) {
		free(f->committed);
		f->committed = NULL;
		(void)state_encode(f, true, &f->committed, &f->committed_len);
	}
	return r;
}

int
follow_create(const struct agent_config *cfg, struct follow **ret)
{
	struct follow *f = calloc(1, sizeof(*f));
	uint8_t key[256];
	size_t key_len = 0;
	int r;

	if (f == NULL) {
		return -ENOMEM;
	}
	if (cfg->label_policy == PROJECT_KEYED_HASH) {
		r = project_key_load_or_create(cfg->project_key_file, key, &key_len);
		if (r < 0) {
			log_warnx("could not load project key \"%s\": %s", cfg->project_key_file,
				  strerror(-r));
			free(f);
			return r;
		}
	}
	project_init(&f->project, cfg->label_policy, key, key_len);
	explicit_bzero(key, sizeof(key));
	r = scan_init(&f->scan, &f->project);
	if (r < 0) {
		project_finish(&f->project);
		free(f);
		return r;
	}
	request_ids_init(&f->request_ids);
	f->scan.request_ids = &f->request_ids;
	snprintf(f->team_hint, sizeof(f->team_hint), "%.255s", cfg->team_hint);
	/* not the state directory itself: `collect` keeps its own seen.bin there */
	if (cfg->state_dir[0] != '\0') {
		snprintf(f->seen_dir, sizeof(f->seen_dir), "%s/follow", cfg->state_dir);
	}
	track_init(&f->track, &f->scan, cfg->settle_seconds);
	f->actions_on = cfg->ship_actions;
	if (f->actions_on) {
		char dir[PATH_MAX] = "";
		snprintf(f->allow, sizeof(f->allow), "%s", cfg->action_allowlist);
		if (cfg->state_dir[0] != '\0') {
			snprintf(dir, sizeof(dir), "%.4000s/follow-actions", cfg->state_dir);
		}
		fa_init(&f->act, f->project.key, f->project.key_len, f->allow,
			cfg->action_settle_seconds, dir);
		f->scan.actions = &f->act.table;
		f->track.after_read = after_read;
		f->track.after_read_ctx = &f->act;
	}
	r = roots_collect(cfg, NULL, &f->scan, &f->roots, &f->n_roots);
	if (r < 0) {
		follow_destroy(f);
		return r;
	}
	*ret = f;
	return 0;
}

int
follow_reload_key(struct follow *f, const struct agent_config *cfg)
{
	uint8_t key[256];
	size_t key_len = 0;
	int r;

	if (cfg->label_policy != PROJECT_KEYED_HASH) {
		return 0;
	}
	r = project_key_load_or_create(cfg->project_key_file, key, &key_len);
	if (r < 0) {
		log_warnx("could not load project key \"%s\": %s", cfg->project_key_file,
			  strerror(-r));
		return r;
	}
	/* The scan borrows f->project: same address, fresh key and label cache. */
	project_finish(&f->project);
	project_init(&f->project, cfg->label_policy, key, key_len);
	explicit_bzero(key, sizeof(key));
	if (f->actions_on) {
		fa_set_key(&f->act, f->project.key, f->project.key_len);
	}
	return 0;
}

void
follow_destroy(struct follow *f)
{
	if (f == NULL) {
		return;
	}
	track_finish(&f->track);
	free(f->roots);
	dirs_clear(f);
	free(f->dirs);
	free(f->settled);
	free(f->committed);
	seen_finish(&f->seen);
	f->scan.actions = NULL;
	fa_finish(&f->act);
	scan_finish(&f->scan);
	request_ids_finish(&f->request_ids);
	project_finish(&f->project);
	free(f);
}
