/*
 * follow.c: the daemon's reading side; see follow.h.
 *
 * It drives the readers' primitives (scan_walk_all, scan_read and the
 * ledger) the way tail.c does for `scan --incremental`, but keeps its state
 * in memory and hands it to the spool as a blob instead of writing state
 * files, so one fdatasync covers the events and the positions they came
 * from. The blob holds no text a user wrote and no path: files are keyed by
 * a hash of their path; Codex working directory and remote URL are replaced
 * by the project label they produce (a keyed hash, which is sent anyway).
 *
 * Blob (little endian): u32 magic, u32 flags (1: snapshot), u32 n_files,
 * files, u32 n_pending, pending responses. A delta carries the files that
 * changed (or went away) since the last commit and every pending response;
 * a snapshot carries everything.
 */
#include "follow.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event_id.h"
#include "log.h"
#include "origin.h"
#include "scan.h"
#include "spool.h"

#define FOLLOW_MAGIC 0x314c4f46u /* "FOL1" */
#define FP_BYTES 4096
#define MAX_ROOTS 256
#define COMPACT_AT 4096

enum {
	FILE_REMOVED = 1,
	FILE_HAS_OPEN = 2,
	FILE_HAS_PREV = 4,
	FILE_SPAWN = 8,
	FILE_CTX_LOST = 16, /* Codex cwd/remote not known here: use label */
};

struct fstate {
	uint8_t key[16]; /* hash of the path: the only identity that is persisted */
	char *path;      /* in memory only; NULL until the walk finds it again */
	uint8_t tool;
	uint16_t origin;
	uint64_t dev, ino, size, mtime_ns;
	uint64_t head_len, head_fp, tail_len, tail_fp;
	struct scan_cursor cur;
	char label[PROJECT_LABEL_MAX]; /* Codex: label of cur.codex cwd/remote */
	bool ctx_lost;
	bool visited, changed, removed;
};

struct follow {
	struct project project;
	struct scan scan;
	struct scan_root roots[MAX_ROOTS];
	size_t n_roots;
	struct scan_origin origins[MAX_ROOTS];
	size_t n_origins;
	char team_hint[256];
	uint64_t settle_ms;

	struct fstate *files;
	size_t n_files, cap_files;

	/* a pass in progress */
	size_t *settled; /* ledger indexes settled by it */
	size_t n_settled, cap_settled;
	uint8_t *committed; /* full snapshot as of the last commit */
	size_t committed_len;
	bool in_pass;

	char **dirs;
	size_t n_dirs, cap_dirs;

	uint64_t links_last, foreign_last; /* skipped by the last pass */
};

/* --- helpers --------------------------------------------------------------------------- */

static void
path_key(const char *path, uint8_t ret[16])
{
	/* SHA-256 under its own domain: the path itself never leaves memory. */
	am_event_id("follow-path", path, strlen(path), ret);
}

static uint64_t
fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ s[i]) * 1099511628211ull;
	}
	return h;
}

#define FNV0 1469598103934665603ull

static uint64_t
fingerprint(int fd, uint64_t off, uint64_t len)
{
	char buf[FP_BYTES];

	if (len == 0) {
		return FNV0;
	}
	if (len > sizeof(buf)) {
		return 0;
	}
	return pread(fd, buf, (size_t)len, (off_t)off) == (ssize_t)len ? fnv(buf, (size_t)len, FNV0)
								       : 0;
}

static struct fstate *
find_key(struct follow *f, const uint8_t key[16])
{
	for (size_t i = 0; i < f->n_files; i++) {
		if (memcmp(f->files[i].key, key, 16) == 0) {
			return &f->files[i];
		}
	}
	return NULL;
}

static struct fstate *
add_file(struct follow *f, const uint8_t key[16])
{
	if (f->n_files == f->cap_files) {
		size_t cap = f->cap_files ? f->cap_files * 2 : 64;
		struct fstate *g = realloc(f->files, cap * sizeof(*g));
		if (g == NULL) {
			return NULL;
		}
		f->files = g;
		f->cap_files = cap;
	}
	struct fstate *fs = &f->files[f->n_files++];
	memset(fs, 0, sizeof(*fs));
	memcpy(fs->key, key, 16);
	return fs;
}

static void
files_clear(struct follow *f)
{
	for (size_t i = 0; i < f->n_files; i++) {
		free(f->files[i].path);
	}
	f->n_files = 0;
}

/* --- blob codec --------------------------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void
put(struct buf *b, const void *v, size_t n)
{
	if (b->oom) {
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n) {
			cap *= 2;
		}
		uint8_t *g = realloc(b->p, cap);
		if (g == NULL) {
			b->oom = true;
			return;
		}
		b->p = g;
		b->cap = cap;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void
put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(b, x, 4);
}

static void
put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

static void
put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	put32(b, (uint32_t)n);
	put(b, s, n);
}

struct rd {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

static const uint8_t *
get(struct rd *r, size_t n)
{
	if (r->bad || r->len - r->pos < n) {
		r->bad = true;
		return NULL;
	}
	r->pos += n;
	return r->p + r->pos - n;
}

static uint32_t
get32(struct rd *r)
{
	const uint8_t *x = get(r, 4);
	return x ? (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24
		 : 0;
}

static uint64_t
get64(struct rd *r)
{
	uint64_t lo = get32(r);
	return lo | (uint64_t)get32(r) << 32;
}

static void
get_str(struct rd *r, char *out, size_t size)
{
	uint32_t n = get32(r);
	const uint8_t *s;

	if (n >= size) {
		r->bad = true;
		out[0] = '\0';
		return;
	}
	s = get(r, n);
	if (s == NULL) {
		out[0] = '\0';
		return;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

static void
encode_file(struct buf *b, const struct fstate *fs)
{
	const struct codex_file *cx = &fs->cur.codex;
	uint32_t flags = (fs->removed ? FILE_REMOVED : 0) | (fs->cur.has_open ? FILE_HAS_OPEN : 0) |
			 (cx->has_prev ? FILE_HAS_PREV : 0) | (cx->thread_spawn ? FILE_SPAWN : 0);

	put(b, fs->key, 16);
	put32(b, flags);
	if (fs->removed) {
		return;
	}
	put32(b, fs->tool | (uint32_t)fs->origin << 8);
	put64(b, fs->dev);
	put64(b, fs->ino);
	put64(b, fs->size);
	put64(b, fs->mtime_ns);
	put64(b, fs->cur.offset);
	put64(b, fs->head_len);
	put64(b, fs->head_fp);
	put64(b, fs->tail_len);
	put64(b, fs->tail_fp);
	put(b, fs->cur.open_id, 16);
	for (int i = 0; i < CODEX_TOTAL_MAX; i++) {
		put64(b, cx->prev[i]);
	}
	put64(b, (uint64_t)cx->start_ms);
	put_str(b, cx->model);
	put_str(b, cx->session);
	put_str(b, fs->label);
}

static void
encode_pending(struct buf *b, struct follow *f)
{
	const struct ledger *l = &f->scan.ledger;
	size_t at = b->len;
	uint32_t n = 0;

	put32(b, 0);
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_rec *r = ledger_at(l, i);
		if (r->flags & (LEDGER_SETTLED | LEDGER_EMITTED)) {
			continue;
		}
		put(b, r->id, 16);
		put32(b, r->tool | (uint32_t)r->origin << 8 |
				 ((r->flags & LEDGER_SIDECHAIN) ? 1u << 24 : 0));
		put64(b, (uint64_t)r->ts_ms);
		for (int k = 0; k < EVENT_BUCKET_MAX; k++) {
			put64(b, r->tok[k]);
		}
		put_str(b, ledger_str(l, r->model));
		put_str(b, ledger_str(l, r->session));
		put_str(b, ledger_str(l, r->project));
		put_str(b, ledger_str(l, r->speed));
		put_str(b, ledger_str(l, r->tier));
		n++;
	}
	if (!b->oom) {
		uint8_t x[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
		memcpy(b->p + at, x, 4);
	}
}

static int
encode(struct follow *f, bool snapshot, uint8_t **ret, size_t *ret_len)
{
	struct buf b = {0};
	size_t at;
	uint32_t n = 0;

	put32(&b, FOLLOW_MAGIC);
	put32(&b, snapshot ? 1 : 0);
	at = b.len;
	put32(&b, 0);
	for (size_t i = 0; i < f->n_files; i++) {
		const struct fstate *fs = &f->files[i];
		if (snapshot ? fs->removed : !fs->changed) {
			continue;
		}
		encode_file(&b, fs);
		n++;
	}
	if (!b.oom) {
		uint8_t x[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
		memcpy(b.p + at, x, 4);
	}
	encode_pending(&b, f);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*ret = b.p;
	*ret_len = b.len;
	return 0;
}

/* Apply a snapshot (replace) or a delta (upsert) to the in-memory state. */
static int
decode(struct follow *f, const uint8_t *blob, size_t len, bool is_snapshot)
{
	struct rd r = {blob, len, 0, false};
	uint32_t n;

	if (get32(&r) != FOLLOW_MAGIC) {
		return -EBADMSG;
	}
	(void)get32(&r); /* flags: the spool says which it is */
	if (is_snapshot) {
		files_clear(f);
	}
	n = get32(&r);
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		const uint8_t *key = get(&r, 16);
		uint32_t flags = get32(&r);
		struct fstate *fs;
		if (key == NULL) {
			break;
		}
		fs = find_key(f, key);
		if (flags & FILE_REMOVED) {
			if (fs != NULL) {
				free(fs->path);
				*fs = f->files[--f->n_files];
			}
			continue;
		}
		if (fs == NULL && (fs = add_file(f, key)) == NULL) {
			return -ENOMEM;
		}
		free(fs->path);
		memset(fs, 0, sizeof(*fs));
		memcpy(fs->key, key, 16);
		uint32_t to = get32(&r);
		fs->tool = (uint8_t)to;
		fs->origin = (uint16_t)(to >> 8);
		fs->dev = get64(&r);
		fs->ino = get64(&r);
		fs->size = get64(&r);
		fs->mtime_ns = get64(&r);
		fs->cur.offset = get64(&r);
		fs->head_len = get64(&r);
		fs->head_fp = get64(&r);
		fs->tail_len = get64(&r);
		fs->tail_fp = get64(&r);
		const uint8_t *id = get(&r, 16);
		if (id != NULL) {
			memcpy(fs->cur.open_id, id, 16);
		}
		fs->cur.has_open = (flags & FILE_HAS_OPEN) != 0;
		struct codex_file *cx = &fs->cur.codex;
		for (int k = 0; k < CODEX_TOTAL_MAX; k++) {
			cx->prev[k] = get64(&r);
		}
		cx->start_ms = (int64_t)get64(&r);
		cx->has_prev = (flags & FILE_HAS_PREV) != 0;
		cx->thread_spawn = (flags & FILE_SPAWN) != 0;
		get_str(&r, cx->model, sizeof(cx->model));
		get_str(&r, cx->session, sizeof(cx->session));
		get_str(&r, fs->label, sizeof(fs->label));
		fs->ctx_lost = true;
	}
	/* Pending responses: every blob carries all of them. */
	n = get32(&r);
	if (r.bad) {
		return -EBADMSG;
	}
	ledger_finish(&f->scan.ledger);
	ledger_init(&f->scan.ledger);
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		struct ledger_obs o;
		char model[256], session[256], project[PROJECT_LABEL_MAX], speed[64], tier[64];
		const uint8_t *id = get(&r, 16);
		uint32_t to = get32(&r);
		memset(&o, 0, sizeof(o));
		if (id != NULL) {
			memcpy(o.id, id, 16);
		}
		o.tool = (enum event_tool)(to & 0xff);
		o.origin = (uint16_t)((to >> 8) & 0xffff);
		o.sidechain = (to >> 24) & 1;
		o.ts_ms = (int64_t)get64(&r);
		for (int k = 0; k < EVENT_BUCKET_MAX; k++) {
			o.tok[k] = get64(&r);
		}
		get_str(&r, model, sizeof(model));
		get_str(&r, session, sizeof(session));
		get_str(&r, project, sizeof(project));
		get_str(&r, speed, sizeof(speed));
		get_str(&r, tier, sizeof(tier));
		if (r.bad) {
			break;
		}
		if (o.origin >= f->scan.n_origins) {
			o.origin = 0;
		}
		o.model = model;
		o.session = session;
		o.project = project;
		o.speed = speed;
		o.tier = tier;
		if (ledger_add(&f->scan.ledger, &o, NULL) < 0) {
			return -ENOMEM;
		}
	}
	return r.bad ? -EBADMSG : 0;
}

/* --- roots and identities ------------------------------------------------------------------ */

static void
add_list(struct follow *f, enum event_tool tool, const char *list, uint16_t origin)
{
	const char *p = list;

	while (*p != '\0' && f->n_roots < MAX_ROOTS) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len > 0 && len < sizeof(f->roots[0].path)) {
			struct scan_root *r = &f->roots[f->n_roots++];
			r->tool = tool;
			snprintf(r->path, sizeof(r->path), "%.*s", (int)len, p);
			r->origin = origin;
		}
		p += len + (e ? 1 : 0);
	}
}

/*
 * The roots of one user. own (all-users mode, else NULL): whose files they
 * must be; what lies below the home directory (or below a configured root
 * outside it) is opened under that rule, the home itself is trusted.
 */
static int
user_roots(struct follow *f, const struct agent_config *cfg, const char *login, const char *home,
	   bool env_ok, const struct passwd *own)
{
	size_t first = f->n_roots;
	char list[8192];
	const char *e;

	if (cfg->claude_dirs[0] != '\0' && env_ok) {
		add_list(f, EVENT_TOOL_CLAUDE, cfg->claude_dirs, 0);
	} else if (env_ok && (e = getenv("CLAUDE_CONFIG_DIR")) != NULL && e[0] != '\0') {
		add_list(f, EVENT_TOOL_CLAUDE, e, 0);
	} else {
		snprintf(list, sizeof(list), "%s/.claude,%s/.config/claude", home, home);
		add_list(f, EVENT_TOOL_CLAUDE, list, 0);
	}
	if (cfg->codex_dirs[0] != '\0' && env_ok) {
		add_list(f, EVENT_TOOL_CODEX, cfg->codex_dirs, 0);
	} else if (env_ok && (e = getenv("CODEX_HOME")) != NULL && e[0] != '\0') {
		add_list(f, EVENT_TOOL_CODEX, e, 0);
	} else {
		snprintf(list, sizeof(list), "%s/.codex", home);
		add_list(f, EVENT_TOOL_CODEX, list, 0);
	}
	for (size_t i = first; i < f->n_roots; i++) {
		char account[256];
		const char *who = login;
		const struct owned *own_rule = NULL;
		if (own != NULL) {
			scan_root_own(&f->roots[i], own->pw_uid, home);
			own_rule = &f->roots[i].owned;
		}
		const char *billing = f->roots[i].tool == EVENT_TOOL_CLAUDE
					      ? origin_claude_billing(f->roots[i].path, own_rule)
					      : origin_codex_billing(f->roots[i].path, own_rule);
		if (cfg->identity_policy == IDENTITY_FIXED && cfg->identity[0] != '\0') {
			who = cfg->identity;
		} else if (cfg->identity_policy == IDENTITY_TOOL_ACCOUNT &&
			   f->roots[i].tool == EVENT_TOOL_CLAUDE &&
			   origin_claude_account(f->roots[i].path, own_rule, account, sizeof(account)) == 0) {
			who = account; /* that one field of the tool's own account file */
		}
		int o = scan_add_origin(&f->scan, who, billing);
		if (o < 0) {
			return o;
		}
		f->roots[i].origin = (uint16_t)o;
	}
	return 0;
}

static int
collect_roots(struct follow *f, const struct agent_config *cfg)
{
	struct passwd *pw;
	const char *home = getenv("HOME");

	f->n_roots = 0;
	if (cfg->all_users && config_can_read_all()) {
		setpwent();
		while ((pw = getpwent()) != NULL && f->n_roots + 4 < MAX_ROOTS) {
			struct stat st;
			if (pw->pw_dir == NULL || pw->pw_dir[0] != '/' || strcmp(pw->pw_dir, "/") == 0 ||
			    stat(pw->pw_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
				continue;
			}
			/* another user's environment is not ours: home defaults only */
			int r = user_roots(f, cfg, pw->pw_name, pw->pw_dir,
					   home != NULL && strcmp(pw->pw_dir, home) == 0, pw);
			if (r < 0) {
				endpwent();
				return r;
			}
		}
		endpwent();
		return 0;
	}
	pw = getpwuid(geteuid());
	if (home == NULL || home[0] == '\0') {
		home = pw != NULL ? pw->pw_dir : "/";
	}
	return user_roots(f, cfg, pw != NULL ? pw->pw_name : "unknown", home, true, NULL);
}

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

/* --- the pass ------------------------------------------------------------------------------------ */

static void
read_file(struct follow *f, struct fstate *fs, const char *path, const char *rel,
	  uint16_t origin, const struct stat *st, bool from_start)
{
	struct scan *s = &f->scan;
	bool zst = strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".zst") == 0;
	int fd = scan_open(s, path);
	struct stat now;
	size_t first_rec = s->ledger.n;

	if (fd < 0) {
		return; /* vanished, unreadable or refused (counted): the next pass decides */
	}
	if (!from_start && !zst &&
	    (fingerprint(fd, 0, fs->head_len) != fs->head_fp ||
	     fingerprint(fd, fs->cur.offset - fs->tail_len, fs->tail_len) != fs->tail_fp)) {
		from_start = true; /* replaced or rewritten: event ids keep it from counting twice */
	}
	if (from_start || zst) {
		if (fs->cur.has_open) {
			struct ledger_rec *r = ledger_find(&s->ledger, fs->cur.open_id);
			if (r != NULL) {
				r->flags |= LEDGER_SETTLED;
			}
		}
		memset(&fs->cur, 0, sizeof(fs->cur));
		fs->ctx_lost = false;
		fs->label[0] = '\0';
	}
	if (!zst && lseek(fd, (off_t)fs->cur.offset, SEEK_SET) < 0) {
		close(fd);
		return;
	}
	(void)scan_read(s, (enum event_tool)fs->tool, path, rel, origin, fd, zst, &fs->cur);
	if (fs->tool == EVENT_TOOL_CODEX) {
		struct codex_file *cx = &fs->cur.codex;
		if (cx->cwd[0] != '\0' || cx->remote[0] != '\0') {
			fs->ctx_lost = false;
			snprintf(fs->label, sizeof(fs->label), "%s",
				 project_label(&f->project, cx->remote, cx->cwd, scan_offer_owned(s)));
		} else if (fs->ctx_lost && fs->label[0] != '\0') {
			/* Resumed after a restart: the label stands in for cwd and remote. */
			uint32_t idx;
			if (ledger_intern(&s->ledger, fs->label, &idx) == 0) {
				for (size_t i = first_rec; i < s->ledger.n; i++) {
					struct ledger_rec *r = ledger_at(&s->ledger, i);
					if (r->project == 0) {
						r->project = idx;
					}
				}
			}
		}
	}
	if (fstat(fd, &now) < 0) {
		now = *st;
	}
	fs->dev = (uint64_t)now.st_dev;
	fs->ino = (uint64_t)now.st_ino;
	fs->size = (uint64_t)now.st_size;
	fs->mtime_ns = (uint64_t)now.st_mtim.tv_sec * 1000000000ull + (uint64_t)now.st_mtim.tv_nsec;
	fs->head_len = zst ? 0 : (fs->cur.offset < FP_BYTES ? fs->cur.offset : FP_BYTES);
	fs->head_fp = fingerprint(fd, 0, fs->head_len);
	fs->tail_len = fs->head_len;
	fs->tail_fp = fingerprint(fd, fs->cur.offset - fs->tail_len, fs->tail_len);
	close(fd);
	fs->changed = true;
}

static void
follow_file_cb(struct scan *s, void *ctx, enum event_tool tool, const char *path, const char *rel,
	       uint16_t origin, const struct stat *st)
{
	struct follow *f = ctx;
	uint8_t key[16];
	struct fstate *fs;
	uint64_t mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;

	(void)s;
	add_parents(f, path);
	path_key(path, key);
	fs = find_key(f, key);
	if (fs == NULL) {
		fs = add_file(f, key);
		if (fs == NULL) {
			return;
		}
		fs->tool = (uint8_t)tool;
		fs->origin = origin;
		fs->path = strdup(path);
		fs->visited = true;
		read_file(f, fs, path, rel, origin, st, true);
		return;
	}
	if (fs->path == NULL) {
		fs->path = strdup(path);
	}
	fs->visited = true;
	fs->tool = (uint8_t)tool;
	fs->origin = origin;
	if (fs->dev == (uint64_t)st->st_dev && fs->ino == (uint64_t)st->st_ino &&
	    fs->size == (uint64_t)st->st_size && fs->mtime_ns == mtime_ns) {
		return; /* nothing new: not even opened */
	}
	bool same = fs->dev == (uint64_t)st->st_dev && fs->ino == (uint64_t)st->st_ino &&
		    (uint64_t)st->st_size >= fs->cur.offset;
	read_file(f, fs, path, rel, origin, st, !same);
}

static int
settled_push(struct follow *f, size_t idx)
{
	if (f->n_settled == f->cap_settled) {
		size_t cap = f->cap_settled ? f->cap_settled * 2 : 256;
		size_t *g = realloc(f->settled, cap * sizeof(*g));
		if (g == NULL) {
			return -ENOMEM;
		}
		f->settled = g;
		f->cap_settled = cap;
	}
	f->settled[f->n_settled++] = idx;
	return 0;
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
	e->billing_mode = strcmp(o->billing, "subscription") == 0
				  ? AIMETER__V1__BILLING_MODE__BILLING_MODE_SUBSCRIPTION
			  : strcmp(o->billing, "api") == 0 ? AIMETER__V1__BILLING_MODE__BILLING_MODE_API
			  : strcmp(o->billing, "cloud") == 0
				  ? AIMETER__V1__BILLING_MODE__BILLING_MODE_CLOUD
				  : AIMETER__V1__BILLING_MODE__BILLING_MODE_UNKNOWN;
	e->input_tokens = rec->tok[EVENT_INPUT];
	e->output_tokens = rec->tok[EVENT_OUTPUT];
	e->cache_write_5m_tokens = rec->tok[EVENT_CACHE_WRITE_5M];
	e->cache_write_1h_tokens = rec->tok[EVENT_CACHE_WRITE_1H];
	e->cache_read_tokens = rec->tok[EVENT_CACHE_READ];
	e->reasoning_tokens = rec->tok[EVENT_REASONING];
	e->web_search_requests = rec->tok[EVENT_WEB_SEARCH];
	e->speed = (char *)ledger_str(l, rec->speed);
	e->service_tier = (char *)ledger_str(l, rec->tier);
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

int
follow_pass(struct follow *f, int64_t now_ms, struct follow_out *out)
{
	struct scan *s = &f->scan;
	int r;

	memset(out, 0, sizeof(*out));
	f->in_pass = true;
	f->n_settled = 0;
	/* a fresh walk: the scan's visited set is per pass */
	free(s->seen);
	s->seen = NULL;
	s->n_seen = s->cap_seen = 0;
	s->settle_all = false;
	for (size_t i = 0; i < f->n_files; i++) {
		f->files[i].visited = false;
		f->files[i].changed = false;
	}
	dirs_clear(f);
	for (size_t i = 0; i < f->n_roots; i++) {
		char d[4200];
		add_dir(f, f->roots[i].path);
		snprintf(d, sizeof(d), "%s/%s", f->roots[i].path,
			 f->roots[i].tool == EVENT_TOOL_CLAUDE ? "projects" : "sessions");
		add_dir(f, d);
	}
	uint64_t links0 = s->stat[SCAN_UNSAFE], foreign0 = s->stat[SCAN_FOREIGN];
	scan_walk_all(s, f->roots, f->n_roots, follow_file_cb, f);
	f->links_last = s->stat[SCAN_UNSAFE] - links0;
	f->foreign_last = s->stat[SCAN_FOREIGN] - foreign0;

	for (size_t i = 0; i < f->n_files; i++) {
		struct fstate *fs = &f->files[i];
		bool gone = !fs->visited;
		bool quiet = (int64_t)(fs->mtime_ns / 1000000) + (int64_t)f->settle_ms <= now_ms;
		if (gone) {
			fs->removed = true;
			fs->changed = true;
		}
		if (fs->cur.has_open && (gone || quiet)) {
			struct ledger_rec *rec = ledger_find(&s->ledger, fs->cur.open_id);
			if (rec != NULL) {
				rec->flags |= LEDGER_SETTLED;
			}
			fs->cur.has_open = false;
			fs->changed = true;
		} else if (fs->cur.has_open) {
			int64_t due = (int64_t)(fs->mtime_ns / 1000000) + (int64_t)f->settle_ms;
			if (out->next_settle_ms == 0 || due < out->next_settle_ms) {
				out->next_settle_ms = due;
			}
		}
	}
	for (size_t i = 0; i < s->ledger.n; i++) {
		struct ledger_rec *rec = ledger_at(&s->ledger, i);
		if ((rec->flags & LEDGER_SETTLED) && !(rec->flags & LEDGER_EMITTED)) {
			if (!ledger_rec_plausible(rec)) {
				/* from a damaged state blob: never into a batch with others' events */
				rec->flags |= LEDGER_EMITTED;
				s->stat[SCAN_IMPLAUSIBLE]++;
				continue;
			}
			r = settled_push(f, i);
			if (r < 0) {
				return r;
			}
		}
	}
	bool changed = f->n_settled > 0;
	for (size_t i = 0; i < f->n_files && !changed; i++) {
		changed = f->files[i].changed;
	}
	if (!changed) {
		return 0;
	}
	r = pack_events(f, out);
	if (r == 0) {
		r = encode(f, false, &out->state, &out->state_len);
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
	free(out->state);
	memset(out, 0, sizeof(*out));
}

void
follow_commit(struct follow *f)
{
	struct scan *s = &f->scan;

	for (size_t i = 0; i < f->n_settled; i++) {
		ledger_at(&s->ledger, f->settled[i])->flags |= LEDGER_EMITTED;
	}
	f->n_settled = 0;
	/* forget removed files for good */
	for (size_t i = 0; i < f->n_files;) {
		if (f->files[i].removed) {
			free(f->files[i].path);
			f->files[i] = f->files[--f->n_files];
		} else {
			f->files[i].changed = false;
			i++;
		}
	}
	if (s->ledger.n >= COMPACT_AT) {
		/* Rebuild the ledger with the pending records only (memory stays flat). */
		uint8_t *blob;
		size_t len;
		if (encode(f, true, &blob, &len) == 0) {
			/* decode() resets files from the blob; save what it cannot carry */
			size_t n = f->n_files;
			struct fstate *saved = malloc(n * sizeof(*saved) + 1);
			if (saved != NULL) {
				memcpy(saved, f->files, n * sizeof(*saved));
				for (size_t i = 0; i < n; i++) {
					f->files[i].path = NULL; /* ownership moves to saved */
				}
				if (decode(f, blob, len, true) == 0 && f->n_files == n) {
					for (size_t i = 0; i < n; i++) {
						struct fstate *fs = find_key(f, saved[i].key);
						if (fs != NULL) {
							fs->path = saved[i].path;
							saved[i].path = NULL;
							fs->cur.codex = saved[i].cur.codex;
							fs->ctx_lost = saved[i].ctx_lost;
						}
					}
				}
				for (size_t i = 0; i < n; i++) {
					free(saved[i].path);
				}
				free(saved);
			}
			free(blob);
		}
	}
	free(f->committed);
	f->committed = NULL;
	f->committed_len = 0;
	(void)encode(f, true, &f->committed, &f->committed_len); /* for follow_abort */
	f->in_pass = false;
}

void
follow_abort(struct follow *f)
{
	/* Back to the last committed state: nothing of the failed pass remains. */
	f->n_settled = 0;
	f->in_pass = false;
	if (f->committed != NULL) {
		(void)decode(f, f->committed, f->committed_len, true);
	} else {
		files_clear(f);
		ledger_finish(&f->scan.ledger);
		ledger_init(&f->scan.ledger);
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
	return encode(f, true, ret_blob, ret_len);
}

int
follow_restore(void *opaque, const uint8_t *blob, size_t len, bool is_snapshot)
{
	struct follow *f = opaque;
	int r = decode(f, blob, len, is_snapshot);

	if (r == 0) {
		free(f->committed);
		f->committed = NULL;
		(void)encode(f, true, &f->committed, &f->committed_len);
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
	snprintf(f->team_hint, sizeof(f->team_hint), "%.255s", cfg->team_hint);
	f->settle_ms = cfg->settle_seconds * 1000;
	r = collect_roots(f, cfg);
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
	return 0;
}

void
follow_destroy(struct follow *f)
{
	if (f == NULL) {
		return;
	}
	files_clear(f);
	free(f->files);
	dirs_clear(f);
	free(f->dirs);
	free(f->settled);
	free(f->committed);
	scan_finish(&f->scan);
	project_finish(&f->project);
	free(f);
}
