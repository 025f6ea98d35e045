/* source-opencode.c: the OpenCode source; see source-opencode.h. */
#define _GNU_SOURCE /* memmem */
#include "source-opencode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ledger.h"
#include "origin.h"
#include "project.h"
#include "scan.h"
#include "sqlite-ro.h"

#define NEEDLE_ASSISTANT "\"assistant\""

bool
opencode_msg_wanted(const char *js, size_t len)
{
	return memmem(js, len, NEEDLE_ASSISTANT, sizeof(NEEDLE_ASSISTANT) - 1) != NULL;
}

/* ---- one message ---- */

/* An optional counter: null or absent is 0; anything else but a count that fits is bad. */
static int
counter(const struct json_doc *d, int t, uint64_t *v)
{
	*v = 0;
	return json_u64(d, t, v) < 0 || *v > LEDGER_TOK_MAX ? -1 : 0;
}

enum { T_IN, T_OUT, T_REASONING, T_TOTAL, T_CACHE, T_MAX };
static const char *const token_keys[T_MAX] = {"input", "output", "reasoning", "total", "cache"};

/*
 * OpenCode stores tokens normalised (session/index.ts getUsage): input
 * without cache, reasoning apart from output. Builds before
 * anomalyco/opencode#21047 counted reasoning inside output, which their
 * total (input + output + cache) shows. 1 tokens, 0 all zero, -1 bad.
 */
static int
tokens_of(const struct json_doc *d, int tokens, uint64_t tok[EVENT_BUCKET_MAX])
{
	uint64_t in, out, reasoning, total, read, write;
	int t[T_MAX];

	memset(tok, 0, EVENT_BUCKET_MAX * sizeof(tok[0]));
	if (json_is_null(d, tokens)) {
		return 0;
	}
	if (json_type(d, tokens) != JSON_OBJECT) {
		return -1;
	}
	json_get_many(d, tokens, token_keys, T_MAX, t);
	if (counter(d, t[T_IN], &in) < 0 || counter(d, t[T_OUT], &out) < 0 ||
	    counter(d, t[T_REASONING], &reasoning) < 0 || counter(d, t[T_TOTAL], &total) < 0 ||
	    counter(d, json_get(d, t[T_CACHE], "read"), &read) < 0 ||
	    counter(d, json_get(d, t[T_CACHE], "write"), &write) < 0) {
		return -1;
	}
	if ((in | out | reasoning | read | write) == 0) {
		return 0;
	}
	bool reasoning_inside = !json_is_null(d, t[T_TOTAL]) && reasoning > 0 &&
				total == in + out + read + write;
	tok[EVENT_INPUT] = in;
	tok[EVENT_OUTPUT] = reasoning_inside ? out : out + reasoning;
	tok[EVENT_REASONING] = reasoning;
	tok[EVENT_CACHE_READ] = read;
	tok[EVENT_CACHE_WRITE_5M] = write;
	return tok[EVENT_OUTPUT] > LEDGER_TOK_MAX ? -1 : 1;
}

enum {
	M_ROLE, M_ID, M_SESSION, M_MODEL_ID, M_PROVIDER, M_MODEL, M_TIME, M_TOKENS, M_ERROR, M_PATH,
	M_MAX
};
static const char *const msg_keys[M_MAX] = {
	"role", "id", "sessionID", "modelID", "providerID", "model", "time", "tokens", "error", "path",
};

enum opencode_msg
opencode_msg_parse(struct json_doc *doc, const char *js, size_t len,
		   const struct opencode_row *row, struct opencode_obs *o)
{
	int m[M_MAX], created, completed;
	uint64_t ms = 0;

	memset(o, 0, sizeof(*o));
	if (json_parse(doc, js, len) < 0) {
		return OPENCODE_MSG_INVALID;
	}
	if (json_type(doc, 0) != JSON_OBJECT) {
		return OPENCODE_MSG_OTHER;
	}
	json_get_many(doc, 0, msg_keys, M_MAX, m);
	if (row != NULL && row->type != NULL ? strcmp(row->type, "assistant") != 0
					      : !json_str_eq(doc, m[M_ROLE], "assistant")) {
		return OPENCODE_MSG_OTHER;
	}
	int r = tokens_of(doc, m[M_TOKENS], o->tok);
	if (r < 0) {
		return OPENCODE_MSG_BAD;
	}
	created = json_get(doc, m[M_TIME], "created");
	completed = json_get(doc, m[M_TIME], "completed");
	o->final = !json_is_null(doc, completed) || !json_is_null(doc, m[M_ERROR]);
	if (r == 0) {
		/* a placeholder still streaming, or a call aborted before any usage */
		return o->final ? OPENCODE_MSG_OTHER : OPENCODE_MSG_OPEN;
	}
	/* ids: the row's columns (1.x and 2.x data hold none), else the file's fields */
	if (row != NULL) {
		if (snprintf(o->id, sizeof(o->id), "%s", row->id) >= (int)sizeof(o->id) ||
		    snprintf(o->session, sizeof(o->session), "%s", row->session) >=
			    (int)sizeof(o->session)) {
			return OPENCODE_MSG_BAD;
		}
	} else if (json_str(doc, m[M_ID], o->id, sizeof(o->id)) < 0 ||
		   json_str(doc, m[M_SESSION], o->session, sizeof(o->session)) < 0) {
		return OPENCODE_MSG_BAD;
	}
	if (o->id[0] == '\0') {
		return OPENCODE_MSG_BAD;
	}
	if (json_u64(doc, created, &ms) > 0 && ms > 0 && ms < (uint64_t)EVENT_TS_MAX_MS) {
		o->ts_ms = (int64_t)ms;
	} else if (json_is_null(doc, created) && row != NULL) {
		o->ts_ms = row->time_created;
	} else {
		return OPENCODE_MSG_BAD;
	}
	/* 1.x and the JSON files: modelID, providerID; 2.x: model {id, providerID} */
	if (json_str(doc, m[M_MODEL_ID], o->model, sizeof(o->model)) < 0 &&
	    json_str(doc, json_get(doc, m[M_MODEL], "id"), o->model, sizeof(o->model)) < 0) {
		o->model[0] = '\0';
	}
	if (json_str(doc, m[M_PROVIDER], o->provider, sizeof(o->provider)) < 0 &&
	    json_str(doc, json_get(doc, m[M_MODEL], "providerID"), o->provider,
		     sizeof(o->provider)) < 0) {
		o->provider[0] = '\0';
	}
	if (json_str(doc, json_get(doc, m[M_PATH], "cwd"), o->cwd, sizeof(o->cwd)) < 0) {
		o->cwd[0] = '\0';
	}
	return OPENCODE_MSG_USAGE;
}

enum event_billing
opencode_billing(const char *provider, bool anthropic_oauth, bool *ret_cloud)
{
	*ret_cloud = strcmp(provider, "amazon-bedrock") == 0 ||
		     strncmp(provider, "google-vertex", 13) == 0 || strcmp(provider, "azure") == 0;
	if (*ret_cloud) {
		return EVENT_BILLING_CLOUD;
	}
	if (strcmp(provider, "github-copilot") == 0) {
		return EVENT_BILLING_SUBSCRIPTION;
	}
	if (strcmp(provider, "anthropic") == 0) {
		return anthropic_oauth ? EVENT_BILLING_SUBSCRIPTION : EVENT_BILLING_API;
	}
	if (strcmp(provider, "opencode") == 0) {
		return EVENT_BILLING_API; /* OpenCode Zen, pay as you go */
	}
	return EVENT_BILLING_UNKNOWN;
}

/* ---- reading: shared by rows and files ---- */

/* Whether the data dir's auth.json holds an Anthropic OAuth login (Claude Pro/Max). */
static bool
anthropic_oauth(const struct source_file *file)
{
	size_t n = strlen(file->path), r = strlen(file->rel);
	struct json_doc doc;
	char path[4200], *buf;
	bool oauth = false;

	if (r + 1 >= n || snprintf(path, sizeof(path), "%.*s/auth.json", (int)(n - r - 1),
				   file->path) >= (int)sizeof(path)) {
		return false;
	}
	json_doc_init(&doc);
	if ((buf = origin_load_json(path, file->owned, &doc)) != NULL) {
		oauth = json_str_eq(&doc, json_path(&doc, 0, "anthropic", "type", NULL), "oauth");
		free(buf);
	}
	json_doc_finish(&doc);
	return oauth;
}

struct reading {
	struct scan *s;
	const struct source_file *file;
	struct scan_cursor *cur;
	int oauth; /* auth.json read: -1 not yet, else 0 or 1 */
};

static const struct scan_skip skips[OPENCODE_MSG_MAX] = {
	[OPENCODE_MSG_INVALID] = {true, SCAN_INVALID_JSON, "message that does not parse"},
	[OPENCODE_MSG_BAD] = {true, SCAN_BAD_LINES, "assistant message with bad fields"},
};

/* A usage message into the ledger; from_json: a legacy file's copy, which a row beats. */
static void
take(struct reading *rd, const struct opencode_obs *o, bool from_json)
{
	struct source_rec rec;
	bool cloud;

	if (rd->oauth < 0 && strcmp(o->provider, "anthropic") == 0) {
		rd->oauth = anthropic_oauth(rd->file);
	}
	memset(&rec, 0, sizeof(rec));
	rec.ts_ms = o->ts_ms;
	memcpy(rec.tok, o->tok, sizeof(rec.tok));
	rec.model = o->model;
	rec.session = o->session;
	rec.project = o->cwd[0] != '\0' && rd->s->project != NULL
			      ? project_label(rd->s->project, NULL, o->cwd, rd->file->owned)
			      : "";
	rec.billing = opencode_billing(o->provider, rd->oauth > 0, &cloud);
	rec.cloud = cloud;
	rec.sidechain = from_json;
	rec.final = o->final;
	rec.key_src = o->id;
	(void)scan_record(rd->s, EVENT_TOOL_OPENCODE, rd->file, 0, rd->cur, &rec);
}

/* A legacy storage/message/<session>/<message>.json file, read whole. */
static void
opencode_read_doc(struct scan *s, const struct source_file *file, const char *js, size_t len,
		  uint64_t off, struct scan_cursor *cur)
{
	struct reading rd = {s, file, cur, -1};
	struct opencode_obs o;
	enum opencode_msg kind = opencode_msg_parse(&s->doc, js, len, NULL, &o);

	if (kind == OPENCODE_MSG_USAGE) {
		take(&rd, &o, true);
	} else {
		scan_skip(s, file, off, &skips[kind]);
	}
}

/* ---- reading a database ---- */

#define OC_TABLES 2
#define OC_PENDING_MAX 64
#define OC_PAGE 512
#define OC_MAX_VALUE (64u << 20)
#define OC_PENDING_MAX_AGE_MS (24 * 3600 * 1000LL) /* a call never takes a day */

/* An assistant row not final yet: looked up again by rowid until it is. */
struct oc_pending {
	uint64_t rowid, id_hash;
	int64_t seen_ms; /* the wall clock when first seen in progress */
};

/* Per table: the watermark (the largest rowid read and its message's id) and the rows in progress. */
struct oc_table {
	uint64_t max_rowid, max_hash;
	uint32_t n_pending;
	struct oc_pending pending[OC_PENDING_MAX];
};

struct oc_state {
	struct oc_table t[OC_TABLES];
};

_Static_assert(sizeof(struct oc_state) <= SCAN_CURSOR_STATE, "OpenCode's cursor fits");

static const struct {
	const char *name, *by_rowid, *above, *id_at;
} tables[OC_TABLES] = {
	{"message",
	 "SELECT rowid, id, session_id, time_created, data, NULL FROM message WHERE rowid = ?1",
	 "SELECT rowid, id, session_id, time_created, data, NULL FROM message WHERE rowid > ?1 "
	 "ORDER BY rowid LIMIT ?2",
	 "SELECT id FROM message WHERE rowid = ?1"},
	{"session_message",
	 "SELECT rowid, id, session_id, time_created, data, type FROM session_message "
	 "WHERE rowid = ?1",
	 "SELECT rowid, id, session_id, time_created, data, type FROM session_message "
	 "WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
	 "SELECT id FROM session_message WHERE rowid = ?1"},
};

static struct oc_state *
state_of(struct scan_cursor *cur)
{
	return (struct oc_state *)(void *)cur->state;
}

static uint64_t
id_hash(const unsigned char *id, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ id[i]) * 1099511628211ull;
	}
	return h | 1; /* never 0: 0 is "no row" */
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct table_read {
	struct reading rd;
	struct oc_table *t;
	int64_t seen_ms;   /* of the pending entry being looked up again, or now */
	uint64_t want_hash; /* looking up a pending row: its id's hash (0: new rows) */
	uint64_t last_rowid, last_hash;
};

static void
add_pending(struct table_read *tr, uint64_t rowid, uint64_t hash)
{
	struct oc_table *t = tr->t;
	uint32_t oldest = 0;

	if (tr->seen_ms + OC_PENDING_MAX_AGE_MS < now_ms()) {
		return; /* in progress for a day: abandoned (a crash), never final */
	}
	if (t->n_pending == OC_PENDING_MAX) {
		/* full: the oldest goes; its row, if it ever gets tokens, is not seen */
		for (uint32_t i = 1; i < t->n_pending; i++) {
			oldest = t->pending[i].seen_ms < t->pending[oldest].seen_ms ? i : oldest;
		}
		t->pending[oldest] = t->pending[--t->n_pending];
		tr->rd.s->stat[SCAN_BAD_LINES]++;
	}
	t->pending[t->n_pending++] = (struct oc_pending){rowid, hash, tr->seen_ms};
}

static int
row_cb(void *ctx, sqlite3_stmt *st)
{
	struct table_read *tr = ctx;
	struct scan *s = tr->rd.s;
	const unsigned char *id = sqlite3_column_text(st, 1);
	const unsigned char *session = sqlite3_column_text(st, 2);
	const char *data = (const char *)sqlite3_column_text(st, 4);
	const char *type = (const char *)sqlite3_column_text(st, 5);
	int id_len = sqlite3_column_bytes(st, 1), len = sqlite3_column_bytes(st, 4);
	uint64_t rowid = (uint64_t)sqlite3_column_int64(st, 0);
	uint64_t hash = id != NULL ? id_hash(id, (size_t)id_len) : 1;
	struct opencode_row row = {(const char *)id, (const char *)session, type,
				   sqlite3_column_int64(st, 3)};
	struct opencode_obs o;
	enum opencode_msg kind;

	tr->last_rowid = rowid;
	tr->last_hash = hash;
	if (tr->want_hash != 0 && hash != tr->want_hash) {
		return 0; /* the row in progress is gone: its rowid holds another message */
	}
	s->stat[SCAN_LINES]++;
	s->stat[SCAN_BYTES] += (uint64_t)(len > 0 ? len : 0);
	if (data == NULL || id == NULL || session == NULL) {
		return 0; /* NOT NULL columns in OpenCode's schema: not its row */
	}
	if (type != NULL ? strcmp(type, "assistant") != 0 : !opencode_msg_wanted(data, (size_t)len)) {
		return 0;
	}
	if ((size_t)len > s->max_line) {
		s->stat[SCAN_LONG_LINES]++;
		return 0;
	}
	kind = opencode_msg_parse(&s->doc, data, (size_t)len, &row, &o);
	if (kind == OPENCODE_MSG_USAGE) {
		take(&tr->rd, &o, false);
	} else {
		scan_skip(s, tr->rd.file, rowid, &skips[kind]);
	}
	if (kind == OPENCODE_MSG_OPEN || (kind == OPENCODE_MSG_USAGE && !o.final)) {
		add_pending(tr, rowid, hash);
	}
	return 0;
}

static int
id_cb(void *ctx, sqlite3_stmt *st)
{
	const unsigned char *id = sqlite3_column_text(st, 0);

	*(uint64_t *)ctx = id != NULL ? id_hash(id, (size_t)sqlite3_column_bytes(st, 0)) : 1;
	return 1;
}

/* One table: the rows in progress again, then the rows above the watermark. */
static int
read_table(struct reading *rd, struct sqlite_ro *db, int i, struct oc_table *t)
{
	struct table_read tr = {.rd = *rd, .t = t};
	struct oc_pending was[OC_PENDING_MAX];
	uint32_t n_was = t->n_pending;
	int r;

	if (t->max_rowid != 0) {
		uint64_t hash = 0;
		struct sqlite_ro_arg at = {.i = (int64_t)t->max_rowid};
		r = sqlite_ro_query(db, tables[i].id_at, &at, 1, 1, OC_MAX_VALUE, id_cb, &hash);
		if (r < 0) {
			return r;
		}
		if (hash != t->max_hash) {
			/* rows deleted and rowids reused: read it all again (ids dedup) */
			memset(t, 0, sizeof(*t));
			n_was = 0;
		}
	}
	memcpy(was, t->pending, n_was * sizeof(was[0]));
	t->n_pending = 0;
	for (uint32_t k = 0; k < n_was; k++) {
		struct sqlite_ro_arg at = {.i = (int64_t)was[k].rowid};
		tr.seen_ms = was[k].seen_ms;
		tr.want_hash = was[k].id_hash;
		r = sqlite_ro_query(db, tables[i].by_rowid, &at, 1, 1, OC_MAX_VALUE, row_cb, &tr);
		if (r < 0) {
			/* keep what is still to look at for the next pass */
			memcpy(&t->pending[t->n_pending], &was[k], (n_was - k) * sizeof(was[0]));
			t->n_pending += n_was - k;
			return r;
		}
	}
	tr.want_hash = 0;
	tr.seen_ms = now_ms();
	for (;;) {
		struct sqlite_ro_arg args[2] = {{.i = (int64_t)t->max_rowid}, {.i = OC_PAGE}};
		r = sqlite_ro_query(db, tables[i].above, args, 2, OC_PAGE, OC_MAX_VALUE, row_cb, &tr);
		if (r > 0) {
			t->max_rowid = tr.last_rowid;
			t->max_hash = tr.last_hash;
		}
		if (r < OC_PAGE) {
			return r < 0 ? r : 0;
		}
	}
}

/*
 * In all-users mode the walk opened the file under the ownership rule;
 * SQLite opens it again by path (with O_NOFOLLOW): it must be the same file.
 */
static int
same_file(const struct source_file *file, int fd)
{
	struct stat a, b;

	if (file->owned == NULL || !file->owned->strict) {
		return 0;
	}
	if (fstat(fd, &a) < 0 || lstat(file->path, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		return -EPERM;
	}
	return 0;
}

static int
opencode_read_file(struct scan *s, const struct source_file *file, int fd,
		   struct scan_cursor *cur)
{
	struct reading rd = {s, file, cur, -1};
	struct oc_state *st = state_of(cur);
	struct sqlite_ro db;
	int r = 0;

	if (scan_name_ends(file->rel, ".json")) {
		return -ENOTSUP; /* a legacy message file: read whole */
	}
	s->stat[SCAN_FILES]++;
	cur->offset = 0; /* rows, not bytes: the engine's fingerprints stay empty */
	if ((r = same_file(file, fd)) < 0 ||
	    (r = sqlite_ro_open(&db, file->path, SQLITE_RO_BUSY_MS)) < 0) {
		s->stat[SCAN_UNREADABLE]++;
		scan_warn(s, file->path, "could not open database: %s",
			  r == -EPERM ? "replaced since the walk" : db.err);
		return r;
	}
	for (int i = 0; i < OC_TABLES && r == 0; i++) {
		if (sqlite_ro_has_table(&db, tables[i].name)) {
			r = read_table(&rd, &db, i, &st->t[i]);
		}
	}
	if (r < 0) {
		/* what was read counts; the rest is read next time the database changes */
		s->stat[SCAN_UNREADABLE]++;
		scan_warn(s, file->path, "could not read database: %s", db.err);
	}
	sqlite_ro_close(&db);
	return r;
}

static void
opencode_cursor_encode(const struct scan_cursor *cur, struct blob_w *b)
{
	const struct oc_state *st = (const struct oc_state *)(const void *)cur->state;

	for (int i = 0; i < OC_TABLES; i++) {
		const struct oc_table *t = &st->t[i];
		blob_put64(b, t->max_rowid);
		blob_put64(b, t->max_hash);
		blob_put32(b, t->n_pending);
		for (uint32_t k = 0; k < t->n_pending; k++) {
			blob_put64(b, t->pending[k].rowid);
			blob_put64(b, t->pending[k].id_hash);
			blob_put64(b, (uint64_t)t->pending[k].seen_ms);
		}
	}
}

static void
opencode_cursor_decode(struct scan_cursor *cur, struct blob_r *r)
{
	struct oc_state *st = state_of(cur);

	memset(st, 0, sizeof(*st));
	for (int i = 0; i < OC_TABLES && !r->bad; i++) {
		struct oc_table *t = &st->t[i];
		uint32_t n;
		t->max_rowid = blob_get64(r);
		t->max_hash = blob_get64(r);
		n = blob_get32(r);
		if (n > OC_PENDING_MAX) {
			r->bad = true;
			break;
		}
		for (uint32_t k = 0; k < n && !r->bad; k++) {
			t->pending[k].rowid = blob_get64(r);
			t->pending[k].id_hash = blob_get64(r);
			t->pending[k].seen_ms = (int64_t)blob_get64(r);
		}
		t->n_pending = n;
	}
	if (r->bad) {
		memset(st, 0, sizeof(*st)); /* read it all again: ids dedup */
	}
}

/* ---- the source ---- */

static void
opencode_default_roots(const char *home, const char *xdg_data, char *ret, size_t size)
{
	if (xdg_data != NULL && xdg_data[0] == '/') {
		snprintf(ret, size, "%s/opencode", xdg_data);
	} else {
		snprintf(ret, size, "%s/.local/share/opencode", home);
	}
}

/* $OPENCODE_DB's file name, or NULL. */
static const char *
env_db_name(void)
{
	const char *e = getenv("OPENCODE_DB"), *slash;

	if (e == NULL || e[0] == '\0') {
		return NULL;
	}
	slash = strrchr(e, '/');
	return slash != NULL ? slash + 1 : e;
}

static void
opencode_walk(struct scan *s, const struct scan_root *root, scan_file_cb *cb, void *ctx)
{
	const char *e = getenv("OPENCODE_DB");

	scan_walk_top(s, root, root->path, "", cb, ctx);
	scan_walk_dir(s, root, root->path, "storage/message", cb, ctx);
	/* the user's own roots only: another user's environment is not ours */
	if (e != NULL && e[0] != '\0' && !root->owned.strict && strchr(e, '/') != NULL) {
		char dir[8200];
		const char *slash = strrchr(e, '/');
		int n = e[0] == '/' ? snprintf(dir, sizeof(dir), "%.*s", (int)(slash - e), e)
				    : snprintf(dir, sizeof(dir), "%s/%.*s", root->path, (int)(slash - e), e);
		if (n >= 0 && (size_t)n < sizeof(dir)) {
			scan_walk_top(s, root, dir[0] != '\0' ? dir : "/", "", cb, ctx);
		}
	}
}

static bool
opencode_wanted(const char *name)
{
	const char *env = env_db_name();

	return (strncmp(name, "opencode", 8) == 0 && scan_name_ends(name, ".db")) ||
	       (strncmp(name, "msg_", 4) == 0 && scan_name_ends(name, ".json")) ||
	       (env != NULL && strcmp(name, env) == 0);
}

static const char *
opencode_companion(const char *name)
{
	return scan_name_ends(name, ".json") ? NULL : "-wal";
}

/* Each message says (providerID); the root's own mode is unknown. */
static enum event_billing
opencode_root_billing(const char *root, const struct owned *o)
{
	(void)root;
	(void)o;
	return EVENT_BILLING_UNKNOWN;
}

const struct source_ops source_opencode = {
	.tool = EVENT_TOOL_OPENCODE,
	.name = "opencode",
	.key = "opencode",
	.dir_help = "an OpenCode data dir (~/.local/share/opencode, holds opencode.db)",
	.env = NULL,
	.xdg_env = "XDG_DATA_HOME",
	.watch_dir = "storage/message",
	.default_roots = opencode_default_roots,
	.walk = opencode_walk,
	.wanted = opencode_wanted,
	.whole_file = true, /* the legacy JSON files; databases are read_file's */
	.companion = opencode_companion,
	.read_file = opencode_read_file,
	.prefilter = opencode_msg_wanted,
	.read_line = opencode_read_doc,
	.dedup_key = source_string_key,
	.cursor_encode = opencode_cursor_encode,
	.cursor_decode = opencode_cursor_decode,
	.billing = opencode_root_billing,
	.account = NULL,
};
