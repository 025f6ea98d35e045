/* scan.c: walking the tools' directories and reading files; see scan.h. */
#define _GNU_SOURCE /* memmem */
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event_id.h"
#include "lines.h"
#include "log.h"
#include "request-ids.h"
#include "source.h"

#define WALK_MAX_DEPTH 32
#define PATH_MAX_WALK 4096

int
scan_init(struct scan *s, struct project *project)
{
	memset(s, 0, sizeof(*s));
	ledger_init(&s->ledger);
	json_doc_init(&s->doc);
	s->project = project;
	s->since_ms = INT64_MIN;
	s->max_line = LINES_MAX_DEFAULT;
	s->origins = calloc(SCAN_MAX_ORIGINS, sizeof(*s->origins));
	return s->origins != NULL ? 0 : -ENOMEM;
}

void
scan_finish(struct scan *s)
{
	if (s == NULL) {
		return;
	}
	ledger_finish(&s->ledger);
	json_doc_finish(&s->doc);
	free(s->origins);
	free(s->seen);
	memset(s, 0, sizeof(*s));
}

int
scan_add_origin(struct scan *s, const char *user, enum event_billing billing)
{
	for (size_t i = 0; i < s->n_origins; i++) {
		if (strcmp(s->origins[i].user, user) == 0 && s->origins[i].billing == billing) {
			return (int)i;
		}
	}
	if (s->n_origins + 2 > SCAN_MAX_ORIGINS) {
		return -ENOMEM;
	}
	struct scan_origin *o = &s->origins[s->n_origins++];
	snprintf(o->user, sizeof(o->user), "%s", user);
	o->billing = billing;
	if (billing != EVENT_BILLING_CLOUD) {
		struct scan_origin *c = &s->origins[s->n_origins++];
		snprintf(c->user, sizeof(c->user), "%s", user);
		c->billing = EVENT_BILLING_CLOUD;
		c->cloud_origin = (int)(s->n_origins - 1);
		o->cloud_origin = (int)(s->n_origins);
	} else {
		o->cloud_origin = (int)s->n_origins;
	}
	return (int)(o - s->origins);
}

const char *
scan_stat_name(enum scan_stat st)
{
	static const char *const names[SCAN_STAT_MAX] = {
		"files read",
		"bytes read",
		"lines",
		"usage lines",
		"invalid JSON lines",
		"usage lines with bad fields",
		"over-long lines",
		"<synthetic> lines",
		"API error lines",
		"Codex re-emitted token counts",
		"Codex token counts without info",
		"Codex replayed token counts",
		"Codex events without a model",
		"files ending in an incomplete line",
		"unreadable files or directories",
		"corrupt .zst files",
		"symlink loops or repeated directories",
		"symbolic links not followed (all-users mode)",
		"files or directories owned by another user (all-users mode)",
		"usage lines with an implausible timestamp or token count",
	};
	return (unsigned)st < SCAN_STAT_MAX ? names[st] : "unknown";
}

void
scan_print_stats(const struct scan *s)
{
	for (int i = SCAN_INVALID_JSON; i < SCAN_STAT_MAX; i++) {
		if (i == SCAN_SYNTHETIC || i == SCAN_API_ERRORS || i == SCAN_CODEX_UNCHANGED ||
		    i == SCAN_CODEX_INFO_NULL || i == SCAN_CODEX_REPLAY) {
			continue; /* expected, not problems */
		}
		if (s->stat[i] != 0) {
			log_warnx("%llu %s", (unsigned long long)s->stat[i],
				  scan_stat_name((enum scan_stat)i));
		}
	}
	if (s->warnings > SCAN_WARN_MAX) {
		log_warnx("%u further warnings suppressed", s->warnings - SCAN_WARN_MAX);
	}
}

void
scan_warn(struct scan *s, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	s->warnings++;
	if (path == s->cur_path && path != NULL) {
		if (++s->cur_warnings > SCAN_WARN_PER_FILE) {
			return;
		}
	}
	if (s->warnings > SCAN_WARN_MAX) {
		return;
	}
	char shown[PATH_MAX_WALK];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a file name is the user's text: no control characters into the log */
	log_warnx("%s in \"%s\", skipping", msg,
		  path != NULL ? event_printable(path, shown, sizeof(shown)) : "?");
}

/* ---- visited identities ---- */

/* The home slot of (d, i) among cap slots: a mixed hash, reduced without a division. */
static size_t
seen_home(uint64_t d, uint64_t i, size_t cap)
{
	uint64_t h = (d * 0x9e3779b97f4a7c15ull ^ i) * 0xbf58476d1ce4e5b9ull;

	return (size_t)(((h >> 32) * (uint64_t)cap) >> 32);
}

/*
 * Remember (dev, ino); false when it was already there. Open addressing,
 * up to 80% full, growing by half: 16 bytes a slot, so the table stays
 * near 20-30 bytes per file instead of 32-64.
 */
static bool
seen_add(struct scan *s, dev_t dev, ino_t ino)
{
	uint64_t d = (uint64_t)dev + 1, i = (uint64_t)ino;
	size_t j;

	if ((s->n_seen + 1) * 5 > s->cap_seen * 4) {
		size_t cap = s->cap_seen > 1024 ? s->cap_seen + s->cap_seen / 2 : 2048;
		uint64_t *n = calloc(cap * 2, sizeof(*n));
		if (n == NULL) {
			return true; /* cannot remember: read it (dedup by id still holds) */
		}
		for (size_t k = 0; k < s->cap_seen; k++) {
			if (s->seen[2 * k] != 0) {
				size_t m = seen_home(s->seen[2 * k], s->seen[2 * k + 1], cap);
				while (n[2 * m] != 0) {
					m = m + 1 < cap ? m + 1 : 0;
				}
				n[2 * m] = s->seen[2 * k];
				n[2 * m + 1] = s->seen[2 * k + 1];
			}
		}
		free(s->seen);
		s->seen = n;
		s->cap_seen = cap;
	}
	j = seen_home(d, i, s->cap_seen);
	while (s->seen[2 * j] != 0) {
		if (s->seen[2 * j] == d && s->seen[2 * j + 1] == i) {
			return false;
		}
		j = j + 1 < s->cap_seen ? j + 1 : 0;
	}
	s->seen[2 * j] = d;
	s->seen[2 * j + 1] = i;
	s->n_seen++;
	return true;
}

/* ---- walking ---- */

struct walk {
	struct scan *s;
	const struct scan_root *root;
	const struct source_ops *src;
	scan_file_cb *cb;
	void *ctx;
	size_t root_len; /* rel = path + root_len + 1 */
	int max_depth;   /* directories below this depth are not entered */
};

bool
scan_name_ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool
scan_is_zstd(const char *path)
{
	return scan_name_ends(path, ".zst");
}

void
scan_walk_one(struct scan *s, enum event_tool tool, const char *path, uint16_t origin,
	      scan_file_cb *cb, void *ctx)
{
	struct scan_root *r = calloc(1, sizeof(*r)); /* 4 KB: not on a deep caller's stack */

	if (r == NULL) {
		return;
	}
	r->tool = tool;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->origin = origin;
	scan_walk_all(s, r, 1, cb, ctx);
	free(r);
}

/* Count and warn about an entry that could not be opened (r < 0); ENOENT is silent. */
static void
refused(struct scan *s, const char *path, const struct owned *o, int r, const char *what)
{
	if (r == -ENOENT) {
		return; /* gone since the listing: nothing to read */
	}
	if (r == -ELOOP && o->strict) {
		s->stat[SCAN_UNSAFE]++;
		scan_warn(s, path, "symbolic link not followed in all-users mode");
	} else if (r == -ELOOP) {
		s->stat[SCAN_LOOPS]++;
		scan_warn(s, path, "symlink loop");
	} else if (r == -EPERM && o->strict) {
		s->stat[SCAN_FOREIGN]++;
		scan_warn(s, path, "%s not owned by uid %u", what, (unsigned)o->uid);
	} else {
		s->stat[SCAN_UNREADABLE]++;
		scan_warn(s, path, "could not open %s: %s", what, strerror(-r));
	}
}

/*
 * A file whose source names a companion (a database's -wal): its size and
 * mtime join the file's, so a change to either is a change.
 */
static void
fold_companion(const struct source_ops *src, int dfd, const char *name, struct stat *st)
{
	const char *suffix = src->companion != NULL ? src->companion(name) : NULL;
	char cname[NAME_MAX + 16];
	struct stat cst;

	if (suffix == NULL || snprintf(cname, sizeof(cname), "%s%s", name, suffix) >=
				      (int)sizeof(cname) ||
	    fstatat(dfd, cname, &cst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(cst.st_mode)) {
		return;
	}
	st->st_size += cst.st_size;
	if (cst.st_mtim.tv_sec > st->st_mtim.tv_sec ||
	    (cst.st_mtim.tv_sec == st->st_mtim.tv_sec && cst.st_mtim.tv_nsec > st->st_mtim.tv_nsec)) {
		st->st_mtim = cst.st_mtim;
	}
}

/* Walk the directory open at dfd (taken over and closed), whose path is path[0..len). */
static void
walk_dir(struct walk *w, int dfd, char *path, size_t len, size_t cap, int depth)
{
	struct scan *s = w->s;
	const struct owned *o = &w->root->owned;
	DIR *d;
	struct dirent *de;

	d = fdopendir(dfd);
	if (d == NULL) {
		s->stat[SCAN_UNREADABLE]++;
		scan_warn(s, path, "could not open directory: %s", strerror(errno));
		close(dfd);
		return;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct stat st;
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0'))) {
			continue;
		}
		if (len + 1 + n + 1 > cap) {
			continue;
		}
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, n + 1);
		bool is_dir = de->d_type == DT_DIR;
		bool is_reg = de->d_type == DT_REG;
		if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK ||
		    (is_reg && w->src->wanted(de->d_name))) {
			/* strict: the entry itself; lenient: what a link points at, as stat(2) */
			if (fstatat(dirfd(d), de->d_name, &st, o->strict ? AT_SYMLINK_NOFOLLOW : 0) < 0) {
				refused(s, path, o, -errno, "entry");
				path[len] = '\0';
				continue;
			}
			if (S_ISLNK(st.st_mode)) {
				refused(s, path, o, -ELOOP, "entry");
				path[len] = '\0';
				continue;
			}
			is_dir = S_ISDIR(st.st_mode);
			is_reg = S_ISREG(st.st_mode);
		}
		if (is_dir && depth >= w->max_depth && w->max_depth < WALK_MAX_DEPTH) {
			/* a walk of one directory's files (scan_walk_top) */
		} else if (is_dir) {
			int cfd = -ELOOP;
			if (depth >= WALK_MAX_DEPTH) {
				s->stat[SCAN_LOOPS]++;
				scan_warn(s, path, "directory nesting too deep");
			} else if ((cfd = owned_openat(dirfd(d), de->d_name, o, O_RDONLY | O_DIRECTORY,
						       &st)) < 0) {
				refused(s, path, o, cfd, "directory");
			} else if (!seen_add(s, st.st_dev, st.st_ino)) {
				s->stat[SCAN_LOOPS]++; /* a loop, or a second way in */
				close(cfd);
			} else {
				walk_dir(w, cfd, path, len + 1 + n, cap, depth + 1);
			}
		} else if (is_reg && w->src->wanted(de->d_name)) {
			if (o->strict && st.st_uid != o->uid) {
				/* not remembered as seen: its owner's own walk still reads it */
				refused(s, path, o, -EPERM, "file");
			} else if (st.st_mtime * 1000LL + 999 >= s->since_ms &&
				   seen_add(s, st.st_dev, st.st_ino)) {
				fold_companion(w->src, dirfd(d), de->d_name, &st);
				s->offer.active = true;
				s->offer.dirfd = dirfd(d);
				s->offer.path = path;
				s->offer.name = path + len + 1;
				s->offer.owned = o;
				w->cb(s, w->ctx, w->root->tool, path, path + w->root_len + 1,
				      w->root->origin, &st);
				s->offer.active = false;
			}
		}
		path[len] = '\0';
	}
	if (errno != 0) {
		s->stat[SCAN_UNREADABLE]++;
		scan_warn(s, path, "could not read directory: %s", strerror(errno));
	}
	closedir(d);
}

/* scan_walk_dir and scan_walk_top: parent/sub walked down to max_depth. */
static void
walk_below(struct scan *s, const struct scan_root *root, const char *parent, const char *sub,
	   int max_depth, scan_file_cb *cb, void *ctx)
{
	char *path = malloc(PATH_MAX_WALK);
	struct walk w = {s, root, source_get(root->tool), cb, ctx, strlen(parent), max_depth};
	struct stat st;
	size_t len;
	int fd;

	if (path == NULL) {
		return;
	}
	while (w.root_len > 1 && parent[w.root_len - 1] == '/') {
		w.root_len--;
	}
	len = (size_t)snprintf(path, PATH_MAX_WALK, "%.*s%s%s", (int)w.root_len, parent,
			       sub[0] != '\0' ? "/" : "", sub);
	if (len >= PATH_MAX_WALK) {
		free(path);
		return;
	}
	fd = owned_open(path, &root->owned, O_RDONLY | O_DIRECTORY, &st);
	if (fd < 0) {
		if (fd != -ENOTDIR && fd != -EINVAL) { /* not there, or not a directory: no logs */
			refused(s, path, &root->owned, fd, "directory");
		}
	} else if (!seen_add(s, st.st_dev, st.st_ino)) {
		close(fd);
	} else {
		walk_dir(&w, fd, path, len, PATH_MAX_WALK, 0);
	}
	free(path);
}

void
scan_walk_dir(struct scan *s, const struct scan_root *root, const char *parent, const char *sub,
	      scan_file_cb *cb, void *ctx)
{
	walk_below(s, root, parent, sub, WALK_MAX_DEPTH, cb, ctx);
}

void
scan_walk_top(struct scan *s, const struct scan_root *root, const char *parent, const char *sub,
	      scan_file_cb *cb, void *ctx)
{
	walk_below(s, root, parent, sub, 0, cb, ctx);
}

const struct owned *
scan_offer_owned(const struct scan *s)
{
	return s->offer.active ? s->offer.owned : NULL;
}

void
scan_root_own(struct scan_root *root, uid_t uid, const char *home)
{
	size_t n = strlen(home);

	while (n > 1 && home[n - 1] == '/') {
		n--;
	}
	root->owned.strict = true;
	root->owned.uid = uid;
	if (n > 1 && strncmp(root->path, home, n) == 0 && root->path[n] == '/') {
		root->owned.trusted_len = n;
	} else {
		n = strlen(root->path);
		while (n > 1 && root->path[n - 1] == '/') {
			n--;
		}
		root->owned.trusted_len = n;
	}
}

int
scan_open(struct scan *s, const char *path)
{
	static const struct owned lenient;
	const struct owned *o = &lenient;
	struct stat st;
	int fd;

	if (s->offer.active && s->offer.path == path) {
		o = s->offer.owned;
		fd = owned_openat(s->offer.dirfd, s->offer.name, o, O_RDONLY, &st);
	} else {
		fd = owned_open(path, o, O_RDONLY, &st);
	}
	if (fd >= 0 && o->strict && !S_ISREG(st.st_mode)) {
		close(fd); /* replaced by something else since the walk saw a file */
		fd = -EINVAL;
	}
	if (fd < 0) {
		refused(s, path, o, fd, "file");
	}
	return fd;
}

/* ---- reading ---- */

/*
 * am_event_id for tool and key. Streaming writes several lines per
 * response, one after another, so the previous id is kept and reused.
 */
static void
event_id(struct scan *s, enum event_tool tool, const char *key, uint8_t ret_id[16])
{
	size_t n = strlen(key);

	if (s->last_key_len != n || s->last_tool != tool || memcmp(s->last_key, key, n) != 0 ||
	    n == 0) {
		am_event_id(event_tool_name(tool), key, n, s->last_id);
		if (n < sizeof(s->last_key)) {
			memcpy(s->last_key, key, n);
			s->last_key_len = n;
			s->last_tool = tool;
		} else {
			s->last_key_len = 0;
		}
	}
	memcpy(ret_id, s->last_id, 16);
}

void
scan_skip(struct scan *s, const struct source_file *file, uint64_t off,
	  const struct scan_skip *skip)
{
	if (!skip->counted) {
		return;
	}
	s->stat[skip->stat]++;
	if (skip->warn != NULL) {
		scan_warn(s, file->path, "%s at byte %llu", skip->warn, (unsigned long long)off);
	}
}

/* The origin of a record whose file tells its billing mode: its root's user, that mode. */
static uint16_t
record_origin(struct scan *s, uint16_t origin, enum event_billing billing)
{
	int o;

	if (billing == EVENT_BILLING_UNKNOWN || billing == s->origins[origin].billing) {
		return origin;
	}
	o = scan_add_origin(s, s->origins[origin].user, billing);
	return o < 0 ? origin : (uint16_t)o; /* no room: the root's mode */
}

bool
scan_record(struct scan *s, enum event_tool tool, const struct source_file *file, uint64_t off,
	    struct scan_cursor *cur, const struct source_rec *rec)
{
	const struct source_ops *src = source_get(tool);
	struct ledger_obs obs;
	struct ledger_rec *lrec;
	char key[512];

	if (!event_plausible(rec->ts_ms, rec->tok)) {
		s->stat[SCAN_IMPLAUSIBLE]++;
		scan_warn(s, file->path,
			  "usage record with a timestamp or token count no call has at byte %llu",
			  (unsigned long long)off);
		return false;
	}
	if (src->dedup_key(rec->key_src, file, off, key, sizeof(key)) < 0) {
		s->stat[SCAN_BAD_LINES]++;
		return false;
	}
	s->stat[SCAN_USAGE_LINES]++;
	memset(&obs, 0, sizeof(obs));
	obs.tool = tool;
	event_id(s, tool, key, obs.id);
	obs.ts_ms = rec->ts_ms;
	memcpy(obs.tok, rec->tok, sizeof(obs.tok));
	obs.model = rec->model;
	obs.session = rec->session;
	obs.project = rec->project;
	obs.speed = rec->speed != NULL ? rec->speed : "";
	obs.tier = rec->tier != NULL ? rec->tier : "";
	obs.sidechain = rec->sidechain;
	obs.origin = rec->cloud ? (uint16_t)(s->origins[file->origin].cloud_origin - 1)
				: record_origin(s, file->origin, rec->billing);
	if (ledger_add(&s->ledger, &obs, &lrec) < 0) {
		s->stat[SCAN_BAD_LINES]++; /* out of memory, or a string pool is full */
		return true;
	}
	if (s->request_ids != NULL && rec->request_id != NULL && rec->request_id[0] != '\0') {
		/* not a token, or no room: the call goes without one */
		(void)request_ids_put(s->request_ids, obs.id, rec->request_id);
	}
	if (rec->final || s->settle_all) {
		if (lrec != NULL) { /* a compact ledger holds no flags to set: all is final */
			lrec->flags |= LEDGER_SETTLED;
		}
		return true;
	}
	if (cur->has_open && memcmp(cur->open_id, obs.id, 16) != 0) {
		/* a later record of this file belongs to another response: the open one is final */
		struct ledger_rec *prev = ledger_find(&s->ledger, cur->open_id);
		if (prev != NULL) {
			prev->flags |= LEDGER_SETTLED;
		}
	}
	cur->has_open = true;
	memcpy(cur->open_id, obs.id, 16);
	return true;
}

/*
 * A whole-document source's file (source_ops.whole_file): read from its
 * start every time it changed, as one "line". A document caught half
 * written does not parse and is read again when it next changes.
 */
static int
read_whole(struct scan *s, const struct source_ops *src, const struct source_file *file, int fd,
	   struct scan_cursor *cur)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int r = 0;

	if (buf == NULL) {
		return -ENOMEM;
	}
	s->stat[SCAN_FILES]++;
	if (lseek(fd, 0, SEEK_SET) < 0 && errno != ESPIPE) { /* a pipe is read from where it is */
		r = -errno;
	}
	while (r == 0) {
		if (len == cap) {
			if (cap >= s->max_line || (nb = realloc(buf, cap * 2)) == NULL) {
				r = cap >= s->max_line ? -EFBIG : -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		len += (size_t)n;
	}
	s->stat[SCAN_BYTES] += len;
	if (r == -EFBIG) {
		s->stat[SCAN_LONG_LINES]++;
		scan_warn(s, file->path, "document over the %zu-byte limit", s->max_line);
		r = 0;
	} else if (r < 0) {
		s->stat[SCAN_UNREADABLE]++;
		scan_warn(s, file->path, "could not read: %s", strerror(-r));
	} else {
		s->stat[SCAN_LINES]++;
		if (src->prefilter(buf, len)) {
			src->read_line(s, file, buf, len, 0, cur);
		}
	}
	cur->offset = len;
	free(buf);
	return r;
}

int
scan_read(struct scan *s, enum event_tool tool, const char *path, const char *rel,
	  uint16_t origin, int fd, bool zstd, struct scan_cursor *cur)
{
	const struct source_ops *src = source_get(tool);
	struct source_file file = {path, rel, origin, scan_offer_owned(s)};
	struct lines lr;
	const char *line;
	size_t len;
	uint64_t off;
	int r;

	s->cur_path = path;
	s->cur_warnings = 0;
	if (src->read_file != NULL && (r = src->read_file(s, &file, fd, cur)) != -ENOTSUP) {
		s->cur_path = NULL;
		return r;
	}
	if (source_whole_file(src, rel)) {
		r = read_whole(s, src, &file, fd, cur);
		s->cur_path = NULL;
		return r;
	}
	if (zstd) {
		scan_cursor_reset(cur);
	}
	if (lines_init(&lr, fd, zstd, cur->offset, s->max_line) < 0) {
		return -ENOMEM;
	}
	s->stat[SCAN_FILES]++;
	while ((r = lines_next(&lr, &line, &len, &off)) > 0) {
		s->stat[SCAN_LINES]++;
		if (r == 2) {
			s->stat[SCAN_LONG_LINES]++;
			scan_warn(s, path, "line of %zu bytes at byte %llu is over the %zu-byte limit",
				  len, (unsigned long long)off, s->max_line);
			continue;
		}
		/* the prefilter: only lines that can matter are parsed */
		if (src->prefilter(line, len)) {
			src->read_line(s, &file, line, len, off, cur);
		}
	}
	s->stat[SCAN_BYTES] += lr.bytes_read;
	if (r < 0) {
		if (r == -EBADMSG) {
			s->stat[SCAN_CORRUPT_ZSTD]++;
			scan_warn(s, path, "corrupt zstd data after %llu bytes",
				  (unsigned long long)lr.offset);
		} else {
			s->stat[SCAN_UNREADABLE]++;
			scan_warn(s, path, "could not read: %s", strerror(-r));
		}
	} else if (lr.len > lr.pos) {
		s->stat[SCAN_TORN_TAILS]++; /* the last line is not complete yet */
	}
	cur->offset = lr.offset;
	lines_finish(&lr);
	s->cur_path = NULL;
	return r < 0 ? r : 0;
}

void
scan_cursor_reset(struct scan_cursor *cur)
{
	memset(cur, 0, sizeof(*cur));
}

void
scan_read_all_cb(struct scan *s, void *ctx, enum event_tool tool, const char *path,
		 const char *rel, uint16_t origin, const struct stat *st)
{
	struct scan_cursor cur;
	int fd;

	(void)ctx;
	(void)st;
	fd = scan_open(s, path);
	if (fd < 0) {
		return; /* counted by scan_open; deleted since the walk saw it is fine */
	}
	scan_cursor_reset(&cur);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* a hint only */
	(void)scan_read(s, tool, path, rel, origin, fd, scan_is_zstd(path), &cur);
	close(fd);
}

void
scan_walk_all(struct scan *s, const struct scan_root *roots, size_t n, scan_file_cb *cb, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		const struct source_ops *src = source_get(roots[i].tool);
		if (src != NULL) {
			src->walk(s, &roots[i], cb, ctx);
		}
	}
}
