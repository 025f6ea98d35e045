/* track.c: the tracking engine; see track.h. */
#include "track.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "event_id.h"

#define TRACK_MAGIC 0x324b5254u  /* "TRK2" */
#define LEGACY_MAGIC 0x314c4f46u /* "FOL1": the daemon's first format */
#define FNV0 1469598103934665603ull

enum {
	FILE_REMOVED = 1,
	FILE_HAS_OPEN = 2,
	LEGACY_HAS_PREV = 4, /* FOL1 only: Codex fields in the file's flags */
	LEGACY_SPAWN = 8,
};

/* ---- file table ---- */

void
track_path_key(const char *path, uint8_t ret[16])
{
	am_event_id("follow-path", path, strlen(path), ret);
}

static size_t
key_home(const uint8_t key[16], size_t n_slots)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h)); /* already a hash */
	return (size_t)h & (n_slots - 1);
}

static int
rehash(struct track *t, size_t n_slots)
{
	size_t *slots = calloc(n_slots, sizeof(*slots));

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n_files; i++) {
		size_t j = key_home(t->files[i].key, n_slots);
		while (slots[j] != 0) {
			j = (j + 1) & (n_slots - 1);
		}
		slots[j] = i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n_slots;
	return 0;
}

struct track_file *
track_find(const struct track *t, const uint8_t key[16])
{
	if (t->n_slots == 0) {
		return NULL;
	}
	for (size_t j = key_home(key, t->n_slots); t->slots[j] != 0; j = (j + 1) & (t->n_slots - 1)) {
		if (memcmp(t->files[t->slots[j] - 1].key, key, 16) == 0) {
			return &t->files[t->slots[j] - 1];
		}
	}
	return NULL;
}

struct track_file *
track_add_file(struct track *t, const uint8_t key[16])
{
	struct track_file *fs;

	if (t->n_files == t->cap_files) {
		size_t cap = t->cap_files ? t->cap_files * 2 : 64;
		struct track_file *g = realloc(t->files, cap * sizeof(*g));
		if (g == NULL) {
			return NULL;
		}
		t->files = g;
		t->cap_files = cap;
	}
	if ((t->n_files + 1) * 2 > t->n_slots &&
	    rehash(t, t->n_slots ? t->n_slots * 2 : 128) < 0) {
		return NULL;
	}
	fs = &t->files[t->n_files];
	memset(fs, 0, sizeof(*fs));
	memcpy(fs->key, key, 16);
	size_t j = key_home(key, t->n_slots);
	while (t->slots[j] != 0) {
		j = (j + 1) & (t->n_slots - 1);
	}
	t->slots[j] = ++t->n_files;
	return fs;
}

/* Drop the entries for which gone() holds; the table is rebuilt once. */
static void
drop_files(struct track *t, bool (*gone)(const struct track_file *))
{
	size_t kept = 0;

	for (size_t i = 0; i < t->n_files; i++) {
		if (gone(&t->files[i])) {
			free(t->files[i].path);
		} else {
			t->files[kept++] = t->files[i];
		}
	}
	if (kept != t->n_files) {
		t->n_files = kept;
		if (rehash(t, t->n_slots) < 0) {
			/* cannot happen with a table already this size: keep it searchable */
			memset(t->slots, 0, t->n_slots * sizeof(*t->slots));
		}
	}
}

static bool
is_removed(const struct track_file *fs)
{
	return fs->removed;
}

static bool
is_any(const struct track_file *fs)
{
	(void)fs;
	return true;
}

void
track_init(struct track *t, struct scan *s, uint64_t settle_seconds)
{
	memset(t, 0, sizeof(*t));
	t->scan = s;
	t->settle_ms = settle_seconds * 1000;
}

void
track_finish(struct track *t)
{
	if (t == NULL) {
		return;
	}
	for (size_t i = 0; i < t->n_files; i++) {
		free(t->files[i].path);
	}
	free(t->files);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void
track_reset(struct track *t)
{
	drop_files(t, is_any);
	ledger_finish(&t->scan->ledger);
	ledger_init(&t->scan->ledger);
}

/* ---- the pass ---- */

static uint64_t
fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ s[i]) * 1099511628211ull;
	}
	return h;
}

/* Fingerprint of [off, off + len) of fd; 0 when it cannot be read whole. */
static uint64_t
fingerprint(int fd, uint64_t off, uint64_t len)
{
	char buf[TRACK_FP_BYTES];

	if (len == 0) {
		return FNV0;
	}
	if (len > sizeof(buf)) {
		return 0;
	}
	return pread(fd, buf, (size_t)len, (off_t)off) == (ssize_t)len ? fnv(buf, (size_t)len, FNV0)
								       : 0;
}

static uint64_t
mtime_ns_of(const struct stat *st)
{
	return (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
}

/* The response a file holds open is final now. */
static void
settle_open(struct track *t, struct track_file *fs)
{
	if (fs->cur.has_open) {
		struct ledger_rec *r = ledger_find(&t->scan->ledger, fs->cur.open_id);
		if (r != NULL) {
			r->flags |= LEDGER_SETTLED;
		}
		fs->cur.has_open = false;
	}
}

/*
 * reread: read from the start a file that was not replaced (the daemon finds
 * its tool calls again after a restart): its open response is not final, the
 * lines read again only merge into what the ledger holds.
 */
static void
read_file(struct track *t, struct track_file *fs, const char *path, const char *rel,
	  uint16_t origin, const struct stat *st, bool from_start, bool reread)
{
	struct scan *s = t->scan;
	bool zst = scan_is_zstd(path);
	int fd = scan_open(s, path); /* counts and warns on failure */
	struct stat now;

	if (fd < 0) {
		fs->visited = fd != -ENOENT; /* vanished since the walk saw it: gone */
		return;
	}
	if (!from_start && !zst &&
	    (fingerprint(fd, 0, fs->head_len) != fs->head_fp ||
	     fingerprint(fd, fs->cur.offset - fs->tail_len, fs->tail_len) != fs->tail_fp)) {
		from_start = true; /* replaced or rewritten: event ids keep it from counting twice */
	}
	if (from_start || zst) {
		settle_open(t, fs);
		scan_cursor_reset(&fs->cur);
		t->st.reread += fs->size > 0 ? 1 : 0;
	} else if (reread) {
		scan_cursor_reset(&fs->cur);
		t->st.reread += fs->size > 0 ? 1 : 0;
	} else {
		t->st.appended++;
	}
	if (!zst && lseek(fd, (off_t)fs->cur.offset, SEEK_SET) < 0) {
		close(fd);
		return;
	}
	if (scan_read(s, (enum event_tool)fs->tool, path, rel, origin, fd, zst, &fs->cur) == -EBUSY) {
		/* locked by a writer (a database): what was read counts, the identity stays
		 * as it was, so the next pass reads the rest even if nothing changes */
		close(fd);
		fs->changed = true;
		return;
	}
	/* identity as of the read; a concurrent append is seen next pass. A file with
	 * a companion (a database's -wal) keeps the walk's view, which folds it in. */
	if (source_get((enum event_tool)fs->tool)->companion != NULL || fstat(fd, &now) < 0) {
		now = *st;
	}
	fs->dev = (uint64_t)now.st_dev;
	fs->ino = (uint64_t)now.st_ino;
	fs->size = (uint64_t)now.st_size;
	fs->mtime_ns = mtime_ns_of(&now);
	fs->seen_ms = 0; /* a new mtime: the pass notes when it saw it */
	fs->head_len = zst ? 0 : (fs->cur.offset < TRACK_FP_BYTES ? fs->cur.offset : TRACK_FP_BYTES);
	fs->head_fp = fingerprint(fd, 0, fs->head_len);
	fs->tail_len = fs->head_len;
	fs->tail_fp = fingerprint(fd, fs->cur.offset - fs->tail_len, fs->tail_len);
	close(fd);
	fs->changed = true;
}

static void
track_file_cb(struct scan *s, void *ctx, enum event_tool tool, const char *path, const char *rel,
	      uint16_t origin, const struct stat *st)
{
	struct track *t = ctx;
	uint8_t key[16];
	struct track_file *fs;

	(void)s;
	t->st.files++;
	track_path_key(path, key);
	fs = track_find(t, key);
	if (fs == NULL) {
		fs = track_add_file(t, key);
		if (fs == NULL) {
			return;
		}
		t->st.new_files++;
	} else if (!fs->reread && fs->dev == (uint64_t)st->st_dev && fs->ino == (uint64_t)st->st_ino &&
		   fs->size == (uint64_t)st->st_size && fs->mtime_ns == mtime_ns_of(st)) {
		fs->visited = true;
		fs->removed = false;
		fs->tool = (uint8_t)tool;
		fs->origin = origin;
		if (fs->path == NULL) {
			fs->path = strdup(path); /* for the daemon's watches; NULL is fine */
		}
		t->st.unchanged++;
		return; /* nothing new: not even opened */
	}
	fs->removed = false; /* found again before the removal was committed */
	bool fresh = fs->path == NULL && fs->size == 0 && fs->cur.offset == 0 && fs->dev == 0;
	bool same = !fresh && fs->dev == (uint64_t)st->st_dev && fs->ino == (uint64_t)st->st_ino &&
		    (uint64_t)st->st_size >= fs->cur.offset;
	fs->visited = true;
	fs->tool = (uint8_t)tool;
	fs->origin = origin;
	if (fs->path == NULL) {
		fs->path = strdup(path);
	}
	bool reread = fs->reread;
	fs->reread = false;
	read_file(t, fs, path, rel, origin, st, !same, reread);
	if (t->after_read != NULL) {
		t->after_read(t->after_read_ctx, fs);
	}
}

void
track_pass(struct track *t, const struct scan_root *roots, size_t n, int64_t now_ms)
{
	struct scan *s = t->scan;

	memset(&t->st, 0, sizeof(t->st));
	t->next_settle_ms = 0;
	/* a fresh walk: the scan's visited set is per pass */
	free(s->seen);
	s->seen = NULL;
	s->n_seen = s->cap_seen = 0;
	s->settle_all = false;
	for (size_t i = 0; i < t->n_files; i++) {
		t->files[i].visited = false;
	}
	scan_walk_all(s, roots, n, track_file_cb, t);
	for (size_t i = 0; i < t->n_files; i++) {
		struct track_file *fs = &t->files[i];
		int64_t due;
		if (fs->seen_ms == 0) {
			fs->seen_ms = now_ms;
		}
		due = track_quiet_due(fs, t->settle_ms);
		if (!fs->visited) {
			/* deleted: forgotten, and its last response is final */
			if (!fs->removed) {
				t->st.removed++;
			}
			fs->removed = true;
			fs->changed = true;
		}
		if (fs->cur.has_open && (fs->removed || due <= now_ms)) {
			/* deleted, or quiet for the settle time: its last response is final */
			settle_open(t, fs);
			fs->changed = true;
		} else if (fs->cur.has_open && (t->next_settle_ms == 0 || due < t->next_settle_ms)) {
			t->next_settle_ms = due;
		}
	}
}

int64_t
track_quiet_due(const struct track_file *fs, uint64_t settle_ms)
{
	int64_t since = (int64_t)(fs->mtime_ns / 1000000);

	if (fs->seen_ms != 0 && fs->seen_ms < since) {
		since = fs->seen_ms;
	}
	return since + (int64_t)settle_ms;
}

bool
track_changed(const struct track *t)
{
	for (size_t i = 0; i < t->n_files; i++) {
		if (t->files[i].changed) {
			return true;
		}
	}
	return false;
}

int
track_take_settled(struct track *t, size_t **ret_idx, size_t *ret_n)
{
	struct ledger *l = &t->scan->ledger;
	size_t n = 0, cap = 0, *idx = NULL;

	for (size_t i = 0; i < l->n; i++) {
		struct ledger_rec *rec = ledger_at(l, i);
		if (!(rec->flags & LEDGER_SETTLED) || (rec->flags & LEDGER_EMITTED)) {
			continue;
		}
		if (!ledger_rec_plausible(rec)) {
			/* from a damaged state: never into a batch with others' events */
			rec->flags |= LEDGER_EMITTED;
			t->scan->stat[SCAN_IMPLAUSIBLE]++;
			continue;
		}
		if (n == cap) {
			size_t c = cap ? cap * 2 : 256;
			size_t *g = realloc(idx, c * sizeof(*g));
			if (g == NULL) {
				free(idx);
				return -ENOMEM;
			}
			idx = g;
			cap = c;
		}
		idx[n++] = i;
	}
	*ret_idx = idx;
	*ret_n = n;
	return 0;
}

size_t
track_pending(const struct track *t)
{
	const struct ledger *l = &t->scan->ledger;
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (!(ledger_at(l, i)->flags & (LEDGER_SETTLED | LEDGER_EMITTED))) {
			n++;
		}
	}
	return n;
}

void
track_commit(struct track *t)
{
	drop_files(t, is_removed);
	for (size_t i = 0; i < t->n_files; i++) {
		t->files[i].changed = false;
	}
}

/* ---- pending responses ---- */

static void
encode_pending(struct blob_w *b, const struct ledger *l)
{
	size_t at = b->len;
	uint32_t n = 0;

	blob_put32(b, 0);
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_rec *r = ledger_at(l, i);
		if (r->flags & (LEDGER_SETTLED | LEDGER_EMITTED)) {
			continue;
		}
		blob_put(b, r->id, 16);
		blob_put32(b, r->tool | (uint32_t)r->origin << 8 |
				      ((r->flags & LEDGER_SIDECHAIN) ? 1u << 24 : 0));
		blob_put64(b, (uint64_t)r->ts_ms);
		for (int k = 0; k < EVENT_BUCKET_MAX; k++) {
			blob_put64(b, r->tok[k]);
		}
		blob_put_str(b, ledger_str(l, r->model));
		blob_put_str(b, ledger_str(l, r->session));
		blob_put_str(b, ledger_str(l, r->project));
		blob_put_str(b, ledger_str(l, r->speed));
		blob_put_str(b, ledger_str(l, r->tier));
		n++;
	}
	blob_patch32(b, at, n);
}

/* Read n pending responses into l (fresh); origins at or above n_origins become 0. */
static int
decode_pending(struct blob_r *r, struct ledger *l, size_t n_origins)
{
	uint32_t n = blob_get32(r);

	for (uint32_t i = 0; i < n && !r->bad; i++) {
		struct ledger_obs o;
		char model[256], session[256], project[PROJECT_LABEL_MAX], speed[64], tier[64];
		const uint8_t *id = blob_get(r, 16);
		uint32_t to = blob_get32(r);
		memset(&o, 0, sizeof(o));
		if (id != NULL) {
			memcpy(o.id, id, 16);
		}
		o.tool = (enum event_tool)(to & 0xff);
		o.origin = (uint16_t)((to >> 8) & 0xffff);
		o.sidechain = (to >> 24) & 1;
		o.ts_ms = (int64_t)blob_get64(r);
		for (int k = 0; k < EVENT_BUCKET_MAX; k++) {
			o.tok[k] = blob_get64(r);
		}
		blob_get_str(r, model, sizeof(model));
		blob_get_str(r, session, sizeof(session));
		blob_get_str(r, project, sizeof(project));
		blob_get_str(r, speed, sizeof(speed));
		blob_get_str(r, tier, sizeof(tier));
		if (r->bad) {
			break;
		}
		if (o.origin >= n_origins) {
			o.origin = 0;
		}
		if (o.tool >= EVENT_TOOL_MAX) {
			o.tool = EVENT_TOOL_CLAUDE; /* damaged: dropped as implausible or kept harmless */
		}
		o.model = model;
		o.session = session;
		o.project = project;
		o.speed = speed;
		o.tier = tier;
		if (ledger_add(l, &o, NULL) < 0) {
			return -ENOMEM;
		}
	}
	return r->bad ? -EBADMSG : 0;
}

int
track_compact(struct track *t)
{
	struct blob_w b = {0};
	struct blob_r r;
	struct ledger fresh;
	int e;

	encode_pending(&b, &t->scan->ledger);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	ledger_init(&fresh);
	r = (struct blob_r){b.p, b.len, 0, false};
	e = decode_pending(&r, &fresh, t->scan->n_origins);
	free(b.p);
	if (e < 0) {
		ledger_finish(&fresh);
		return e;
	}
	ledger_finish(&t->scan->ledger);
	t->scan->ledger = fresh;
	return 0;
}

/* ---- files ---- */

static void
encode_file(struct blob_w *b, const struct track_file *fs)
{
	const struct source_ops *src = source_get((enum event_tool)fs->tool);
	size_t at;

	blob_put(b, fs->key, 16);
	blob_put32(b, (fs->removed ? FILE_REMOVED : 0) | (fs->cur.has_open ? FILE_HAS_OPEN : 0));
	if (fs->removed) {
		return;
	}
	blob_put32(b, fs->tool | (uint32_t)fs->origin << 8);
	blob_put64(b, fs->dev);
	blob_put64(b, fs->ino);
	blob_put64(b, fs->size);
	blob_put64(b, fs->mtime_ns);
	blob_put64(b, fs->cur.offset);
	blob_put64(b, fs->head_len);
	blob_put64(b, fs->head_fp);
	blob_put64(b, fs->tail_len);
	blob_put64(b, fs->tail_fp);
	blob_put(b, fs->cur.open_id, 16);
	at = b->len;
	blob_put32(b, 0);
	if (src != NULL && src->cursor_encode != NULL) {
		src->cursor_encode(&fs->cur, b);
	}
	blob_patch32(b, at, (uint32_t)(b->len - at - 4));
}

int
track_encode(const struct track *t, bool snapshot, uint8_t **ret, size_t *ret_len)
{
	struct blob_w b = {0};
	size_t at;
	uint32_t n = 0;

	blob_put32(&b, TRACK_MAGIC);
	blob_put32(&b, snapshot ? 1 : 0);
	at = b.len;
	blob_put32(&b, 0);
	for (size_t i = 0; i < t->n_files; i++) {
		const struct track_file *fs = &t->files[i];
		if (snapshot ? fs->removed : !fs->changed) {
			continue;
		}
		encode_file(&b, fs);
		n++;
	}
	blob_patch32(&b, at, n);
	encode_pending(&b, &t->scan->ledger);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*ret = b.p;
	*ret_len = b.len;
	return 0;
}

int
track_legacy_cursor(struct track_file *fs, bool has_prev, bool spawn,
		    const uint64_t totals_start[6], const char *model, const char *session,
		    const char *label)
{
	const struct source_ops *src = source_get((enum event_tool)fs->tool);
	struct blob_w w = {0};
	struct blob_r cr;

	if (fs->tool != EVENT_TOOL_CODEX || src == NULL || src->cursor_decode == NULL) {
		return 0; /* the old formats kept Codex fields only */
	}
	blob_put32(&w, (has_prev ? 1u : 0) | (spawn ? 2u : 0));
	for (int k = 0; k < 6; k++) {
		blob_put64(&w, totals_start[k]);
	}
	blob_put_str(&w, model);
	blob_put_str(&w, session);
	blob_put_str(&w, label);
	if (w.oom) {
		free(w.p);
		return -ENOMEM;
	}
	cr = (struct blob_r){w.p, w.len, 0, false};
	src->cursor_decode(&fs->cur, &cr);
	free(w.p);
	return cr.bad ? -EBADMSG : 0;
}

/*
 * The source's cursor of one file: in TRK2 its own bytes; in FOL1 the
 * Codex fields every file carried, rewritten into the Codex cursor's
 * encoding (flags, totals, start, model, session, label).
 */
static void
decode_cursor(struct blob_r *r, struct track_file *fs, uint32_t flags, bool legacy)
{
	const struct source_ops *src = source_get((enum event_tool)fs->tool);
	struct blob_r cr;

	if (legacy) {
		uint64_t totals_start[6];
		char model[128], session[80], label[PROJECT_LABEL_MAX];
		for (int k = 0; k < 6; k++) { /* five totals, the start time */
			totals_start[k] = blob_get64(r);
		}
		blob_get_str(r, model, sizeof(model));
		blob_get_str(r, session, sizeof(session));
		blob_get_str(r, label, sizeof(label));
		if (!r->bad && track_legacy_cursor(fs, (flags & LEGACY_HAS_PREV) != 0,
						   (flags & LEGACY_SPAWN) != 0, totals_start, model,
						   session, label) < 0) {
			r->bad = true;
		}
		return;
	}
	uint32_t len = blob_get32(r);
	const uint8_t *p = blob_get(r, len);
	if (p == NULL || src == NULL || src->cursor_decode == NULL) {
		return;
	}
	cr = (struct blob_r){p, len, 0, false};
	src->cursor_decode(&fs->cur, &cr);
	if (cr.bad) {
		r->bad = true;
	}
}

int
track_decode(struct track *t, const uint8_t *blob, size_t len, bool is_snapshot)
{
	struct blob_r r = {blob, len, 0, false};
	uint32_t magic = blob_get32(&r), n;
	bool legacy = magic == LEGACY_MAGIC;
	int e;

	if (magic != TRACK_MAGIC && !legacy) {
		return -EBADMSG;
	}
	(void)blob_get32(&r); /* flags: the caller says which it is */
	if (is_snapshot) {
		drop_files(t, is_any);
	}
	n = blob_get32(&r);
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		const uint8_t *key = blob_get(&r, 16);
		uint32_t flags = blob_get32(&r);
		struct track_file *fs;
		if (key == NULL) {
			break;
		}
		fs = track_find(t, key);
		if (flags & FILE_REMOVED) {
			if (fs != NULL) {
				fs->removed = true;
				drop_files(t, is_removed);
			}
			continue;
		}
		if (fs == NULL && (fs = track_add_file(t, key)) == NULL) {
			return -ENOMEM;
		}
		free(fs->path);
		memset(fs, 0, sizeof(*fs));
		memcpy(fs->key, key, 16);
		uint32_t to = blob_get32(&r);
		fs->tool = (uint8_t)to < EVENT_TOOL_MAX ? (uint8_t)to : EVENT_TOOL_CLAUDE;
		fs->origin = (uint16_t)(to >> 8);
		fs->dev = blob_get64(&r);
		fs->ino = blob_get64(&r);
		fs->size = blob_get64(&r);
		fs->mtime_ns = blob_get64(&r);
		fs->cur.offset = blob_get64(&r);
		fs->head_len = blob_get64(&r);
		fs->head_fp = blob_get64(&r);
		fs->tail_len = blob_get64(&r);
		fs->tail_fp = blob_get64(&r);
		const uint8_t *id = blob_get(&r, 16);
		if (id != NULL) {
			memcpy(fs->cur.open_id, id, 16);
		}
		fs->cur.has_open = (flags & FILE_HAS_OPEN) != 0;
		decode_cursor(&r, fs, flags, legacy);
	}
	if (r.bad) {
		return -EBADMSG;
	}
	/* Pending responses: every blob carries all of them. */
	ledger_finish(&t->scan->ledger);
	ledger_init(&t->scan->ledger);
	e = decode_pending(&r, &t->scan->ledger, t->scan->n_origins);
	return e;
}
