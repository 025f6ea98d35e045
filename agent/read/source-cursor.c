/* source-cursor.c: the Cursor source; see source-cursor.h. */
#define _GNU_SOURCE /* memmem */
#include "source-cursor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scan.h"
#include "sqlite-ro.h"

/* ---- one row ---- */

/* An id from a key: letters, digits, '-' and '_' only (ids, never text). Its length, or -1. */
static int
key_id(const char *p, size_t n, char *ret, size_t size)
{
	if (n == 0 || n >= size) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_')) {
			return -1;
		}
	}
	memcpy(ret, p, n);
	ret[n] = '\0';
	return (int)n;
}

/* createdAt: milliseconds since the epoch, or an RFC 3339 string. 0 or -1. */
static int
created_at(const struct json_doc *d, int t, int64_t *ret_ms)
{
	char ts[64];
	uint64_t ms = 0;

	if (json_type(d, t) == JSON_STRING) {
		return json_str(d, t, ts, sizeof(ts)) > 0 && event_ts_parse(ts, ret_ms) == 0 ? 0 : -1;
	}
	if (json_u64(d, t, &ms) <= 0 || ms >= (uint64_t)EVENT_TS_MAX_MS) {
		return -1;
	}
	*ret_ms = (int64_t)ms;
	return 0;
}

/* A model name at path under t into o->model: whether there is a non-empty one. */
static bool
model_at(const struct json_doc *d, int t, const char *outer, struct cursor_obs *o)
{
	return json_str(d, json_path(d, t, outer, "modelName", NULL), o->model, sizeof(o->model)) >
	       0;
}

enum { B_TYPE, B_CREATED, B_COUNT, B_MODEL, B_MAX };
static const char *const bubble_keys[B_MAX] = {"type", "createdAt", "tokenCount", "modelInfo"};

static enum cursor_row
bubble(const struct json_doc *d, struct cursor_obs *o)
{
	int b[B_MAX];
	uint64_t type = 0, in = 0, out = 0;

	json_get_many(d, 0, bubble_keys, B_MAX, b);
	if (json_u64(d, b[B_TYPE], &type) < 0) {
		return CURSOR_ROW_BAD;
	}
	if (type == 1) { /* the user's: what they selected, often "default" or "auto" */
		return json_str(d, json_get(d, b[B_MODEL], "modelName"), o->model,
				sizeof(o->model)) > 0
			       ? CURSOR_ROW_SELECTED
			       : CURSOR_ROW_OTHER;
	}
	if (type != 2 || json_is_null(d, b[B_COUNT])) {
		return CURSOR_ROW_OTHER;
	}
	if (json_type(d, b[B_COUNT]) != JSON_OBJECT ||
	    json_u64(d, json_get(d, b[B_COUNT], "inputTokens"), &in) < 0 ||
	    json_u64(d, json_get(d, b[B_COUNT], "outputTokens"), &out) < 0) {
		return CURSOR_ROW_BAD;
	}
	if (in == 0 && out == 0) {
		return CURSOR_ROW_OTHER; /* most bubbles: no count was kept */
	}
	if (created_at(d, b[B_CREATED], &o->ts_ms) < 0) {
		return CURSOR_ROW_BAD;
	}
	o->tok[EVENT_INPUT] = in;
	o->tok[EVENT_OUTPUT] = out;
	if (json_str(d, json_get(d, b[B_MODEL], "modelName"), o->model, sizeof(o->model)) <= 0) {
		o->model[0] = '\0';
	}
	return CURSOR_ROW_USAGE;
}

enum cursor_row
cursor_row_parse(struct json_doc *doc, const char *key, size_t key_len, const char *value,
		 size_t len, struct cursor_obs *o)
{
	static const char bub[] = "bubbleId:", comp[] = "composerData:";
	const size_t nb = sizeof(bub) - 1, nc = sizeof(comp) - 1;
	char bubble_id[96];
	bool is_bubble = key_len > nb && memcmp(key, bub, nb) == 0;
	const char *sep;

	memset(o, 0, sizeof(*o));
	if (is_bubble) {
		sep = memchr(key + nb, ':', key_len - nb);
		if (sep == NULL ||
		    key_id(key + nb, (size_t)(sep - key - nb), o->composer, sizeof(o->composer)) < 0 ||
		    key_id(sep + 1, key_len - (size_t)(sep + 1 - key), bubble_id,
			   sizeof(bubble_id)) < 0) {
			return CURSOR_ROW_BAD;
		}
	} else if (key_len <= nc || memcmp(key, comp, nc) != 0 ||
		   key_id(key + nc, key_len - nc, o->composer, sizeof(o->composer)) < 0) {
		return CURSOR_ROW_BAD;
	}
	if (json_parse(doc, value, len) < 0) {
		return CURSOR_ROW_INVALID;
	}
	if (json_type(doc, 0) != JSON_OBJECT) {
		return CURSOR_ROW_OTHER;
	}
	if (!is_bubble) { /* a conversation: only the model selected for it */
		return model_at(doc, 0, "modelConfig", o) ? CURSOR_ROW_SELECTED : CURSOR_ROW_OTHER;
	}
	enum cursor_row r = bubble(doc, o);
	if (r == CURSOR_ROW_USAGE) {
		snprintf(o->key, sizeof(o->key), "%s/%s", o->composer, bubble_id);
	}
	return r;
}

/* ---- the source ---- */

#define CURSOR_SELECTED_SLOTS 24
#define CURSOR_PAGE_ROWS 2048

/* The state kept per database: the rowid watermark and the recently selected models. */
struct cursor_state {
	int64_t rowid; /* every row up to it was read */
	uint32_t next; /* the slot a new conversation takes */
	struct {
		uint64_t composer; /* hash of the conversation id; 0: free */
		char model[64];
	} selected[CURSOR_SELECTED_SLOTS];
};

_Static_assert(sizeof(struct cursor_state) <= SCAN_CURSOR_STATE, "cursor state fits a cursor");

static struct cursor_state *
state_of(struct scan_cursor *cur)
{
	return (struct cursor_state *)(void *)cur->state;
}

static uint64_t
composer_hash(const char *id)
{
	uint64_t h = 1469598103934665603ull;

	for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++) {
		h = (h ^ *p) * 1099511628211ull;
	}
	return h != 0 ? h : 1;
}

static int
slot_of(const struct cursor_state *st, uint64_t h)
{
	for (int i = 0; i < CURSOR_SELECTED_SLOTS; i++) {
		if (st->selected[i].composer == h) {
			return i;
		}
	}
	return -1;
}

static void
select_model(struct cursor_state *st, const char *composer, const char *model)
{
	uint64_t h = composer_hash(composer);
	int i = slot_of(st, h);

	if (i < 0) {
		i = (int)(st->next % CURSOR_SELECTED_SLOTS);
		st->next = (uint32_t)(i + 1) % CURSOR_SELECTED_SLOTS;
	}
	size_t n = strnlen(model, sizeof(st->selected[i].model) - 1);

	st->selected[i].composer = h;
	memcpy(st->selected[i].model, model, n); /* a longer name is cut: approximate anyway */
	st->selected[i].model[n] = '\0';
}

static void
cursor_default_roots(const char *home, const char *xdg, char *ret, size_t size)
{
	if (xdg != NULL && xdg[0] == '/') {
		snprintf(ret, size, "%s/Cursor/User,%s/Library/Application Support/Cursor/User", xdg,
			 home);
	} else {
		snprintf(ret, size, "%s/.config/Cursor/User,%s/Library/Application Support/Cursor/User",
			 home, home);
	}
}

/* The -wal beside the database: the newest rows are there until a checkpoint. */
static const char *
cursor_companion(const char *name)
{
	(void)name;
	return "-wal";
}

/* Only globalStorage's own state.vscdb: its subdirectories are extensions' storage. */
static void
cursor_walk(struct scan *s, const struct scan_root *root, scan_file_cb *cb, void *ctx)
{
	scan_walk_top(s, root, root->path, "globalStorage", cb, ctx);
}

static bool
cursor_wanted(const char *name)
{
	return strcmp(name, "state.vscdb") == 0;
}

/* The bytes of a row's value that can matter: counts or a model name. */
static bool
cursor_prefilter(const char *value, size_t len)
{
	return memmem(value, len, "\"tokenCount\"", 12) != NULL ||
	       memmem(value, len, "\"modelName\"", 11) != NULL;
}

/* Counted as scan_skip does, warned about by row (a database has no byte offsets). */
static const struct scan_skip skips[CURSOR_ROW_MAX] = {
	[CURSOR_ROW_INVALID] = {true, SCAN_INVALID_JSON, NULL},
	[CURSOR_ROW_BAD] = {true, SCAN_BAD_LINES, NULL},
};
static const char *const skip_warn[CURSOR_ROW_MAX] = {
	[CURSOR_ROW_INVALID] = "cursorDiskKV value that is not JSON",
	[CURSOR_ROW_BAD] = "cursorDiskKV row with a bad key, time or count",
};

struct db_read {
	struct scan *s;
	const struct source_file *file;
	struct scan_cursor *cur;
	struct cursor_state *st;
};

/* Rows of the two kinds asked for, above the watermark, in rowid order; nothing else. */
static const char rows_sql[] =
	"SELECT rowid, key, value FROM cursorDiskKV WHERE rowid > ?1 AND "
	"((key >= 'bubbleId:' AND key < 'bubbleId;') OR "
	"(key >= 'composerData:' AND key < 'composerData;')) ORDER BY rowid";
static const char next_sql[] =
	"SELECT rowid FROM cursorDiskKV WHERE rowid > ?1 AND "
	"((key >= 'bubbleId:' AND key < 'bubbleId;') OR "
	"(key >= 'composerData:' AND key < 'composerData;')) ORDER BY rowid LIMIT 1";

static void
take(struct db_read *d, const struct cursor_obs *o, uint64_t rowid)
{
	struct source_rec rec;
	int i;

	memset(&rec, 0, sizeof(rec));
	rec.ts_ms = o->ts_ms;
	memcpy(rec.tok, o->tok, sizeof(rec.tok));
	rec.model = o->model;
	if (o->model[0] == '\0') {
		i = slot_of(d->st, composer_hash(o->composer));
		rec.model = i >= 0 ? d->st->selected[i].model : "unknown";
	}
	rec.session = o->composer;
	rec.project = "";
	rec.final = true; /* a bubble's counts are written once its turn is over */
	rec.key_src = o->key;
	(void)scan_record(d->s, EVENT_TOOL_CURSOR, d->file, rowid, d->cur, &rec);
}

static int
row_cb(void *ctx, sqlite3_stmt *stmt)
{
	struct db_read *d = ctx;
	struct scan *s = d->s;
	struct cursor_obs o;
	int64_t rowid = sqlite3_column_int64(stmt, 0);
	const char *key = (const char *)sqlite3_column_text(stmt, 1);
	size_t key_len = (size_t)sqlite3_column_bytes(stmt, 1);
	const char *value = sqlite3_column_blob(stmt, 2);
	size_t len = (size_t)sqlite3_column_bytes(stmt, 2);

	d->st->rowid = rowid;
	s->stat[SCAN_LINES]++;
	s->stat[SCAN_BYTES] += len;
	if (key == NULL || value == NULL || !cursor_prefilter(value, len)) {
		return 0;
	}
	enum cursor_row r = cursor_row_parse(&s->doc, key, key_len, value, len, &o);
	if (r == CURSOR_ROW_USAGE) {
		take(d, &o, (uint64_t)rowid);
	} else if (r == CURSOR_ROW_SELECTED) {
		select_model(d->st, o.composer, o.model);
	} else if (skip_warn[r] != NULL) {
		scan_skip(s, d->file, (uint64_t)rowid, &skips[r]);
		scan_warn(s, d->file->path, "%s in row %lld", skip_warn[r], (long long)rowid);
	}
	return 0;
}

static int
max_rowid_cb(void *ctx, sqlite3_stmt *stmt)
{
	*(int64_t *)ctx = sqlite3_column_int64(stmt, 0);
	return 0;
}

/* Read the rows above the watermark, a page at a time. 0 or a negative errno. */
static int
read_rows(struct sqlite_ro *db, struct db_read *d)
{
	struct scan *s = d->s;
	int64_t top = 0;
	int n;

	/* a VACUUM may number rows again: below the watermark, start over (event ids dedup) */
	n = sqlite_ro_query(db, "SELECT coalesce(max(rowid), 0) FROM cursorDiskKV", NULL, 0, 1, 64,
			    max_rowid_cb, &top);
	if (n < 0) {
		return n;
	}
	if (top < d->st->rowid) {
		d->st->rowid = 0;
	}
	for (;;) {
		struct sqlite_ro_arg at = {.i = d->st->rowid};
		n = sqlite_ro_query(db, rows_sql, &at, 1, CURSOR_PAGE_ROWS, s->max_line, row_cb, d);
		if (n == -E2BIG) {
			/* one value over the limit: skip that row, not the database */
			int64_t next = d->st->rowid;
			at.i = d->st->rowid; /* the rows before it were read */
			if (sqlite_ro_query(db, next_sql, &at, 1, 1, 64, max_rowid_cb, &next) < 0 ||
			    next <= d->st->rowid) {
				return -E2BIG;
			}
			s->stat[SCAN_LONG_LINES]++;
			scan_warn(s, d->file->path, "value over the %zu-byte limit in row %lld",
				  s->max_line, (long long)next);
			d->st->rowid = next;
			continue;
		}
		if (n < CURSOR_PAGE_ROWS) {
			return n < 0 ? n : 0;
		}
	}
}

static int
cursor_read_db(struct scan *s, const struct source_file *file, int fd, struct scan_cursor *cur)
{
	struct db_read d = {s, file, cur, state_of(cur)};
	struct sqlite_ro db;
	int r;

	(void)fd; /* SQLite opens the file (and its -wal) itself, read-only */
	s->stat[SCAN_FILES]++;
	r = sqlite_ro_open(&db, file->path, SQLITE_RO_BUSY_MS);

	if (r == 0 && sqlite_ro_has_table(&db, "cursorDiskKV")) {
		r = read_rows(&db, &d);
	}
	if (r < 0 && r != -ENOENT) {
		s->stat[SCAN_UNREADABLE]++;
		scan_warn(s, file->path, "could not read the database (read again next pass): %s",
			  db.err[0] != '\0' ? db.err : strerror(-r));
	}
	sqlite_ro_close(&db);
	return r == -ENOENT ? 0 : r;
}

static void
cursor_cursor_encode(const struct scan_cursor *cur, struct blob_w *b)
{
	const struct cursor_state *st = (const struct cursor_state *)(const void *)cur->state;

	blob_put64(b, (uint64_t)st->rowid);
	blob_put32(b, st->next);
	for (int i = 0; i < CURSOR_SELECTED_SLOTS; i++) {
		blob_put64(b, st->selected[i].composer);
		blob_put_str(b, st->selected[i].model);
	}
}

static void
cursor_cursor_decode(struct scan_cursor *cur, struct blob_r *r)
{
	struct cursor_state *st = state_of(cur);

	memset(st, 0, sizeof(*st));
	st->rowid = (int64_t)blob_get64(r);
	st->next = blob_get32(r) % CURSOR_SELECTED_SLOTS;
	for (int i = 0; i < CURSOR_SELECTED_SLOTS; i++) {
		st->selected[i].composer = blob_get64(r);
		blob_get_str(r, st->selected[i].model, sizeof(st->selected[i].model));
	}
	if (st->rowid < 0) {
		st->rowid = 0;
	}
}

/* Cursor bills by its plans and requests; nothing local says how a call was paid. */
static enum event_billing
cursor_billing(const char *root, const struct owned *o)
{
	(void)root;
	(void)o;
	return EVENT_BILLING_UNKNOWN;
}

const struct source_ops source_cursor = {
	.tool = EVENT_TOOL_CURSOR,
	.name = "cursor",
	.key = "cursor",
	.dir_help = "a Cursor user data dir (holds globalStorage/state.vscdb)",
	.env = NULL,
	.watch_dir = "globalStorage",
	.default_roots = cursor_default_roots,
	.walk = cursor_walk,
	.wanted = cursor_wanted,
	.prefilter = cursor_prefilter,
	.companion = cursor_companion,
	.read_file = cursor_read_db,
	.read_line = NULL,
	.dedup_key = source_string_key,
	.cursor_encode = cursor_cursor_encode,
	.cursor_decode = cursor_cursor_decode,
	.billing = cursor_billing,
	.account = NULL,
};
