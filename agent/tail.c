/* tail.c: incremental passes over the tools' files; see tail.h. */
#include "tail.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event_id.h"
#include "hex.h"
#include "json-writer.h"
#include "log.h"

#define STATE_FILE "files.state"
#define SEEN_FILE "seen.bin"
#define SEEN_MAGIC "AMSEEN2\n" /* then records: 16-byte id, event time (ms, int64 LE) */
#define SEEN_MAGIC_LEN 8
#define SEEN_REC 24
#define SEEN_WINDOW_MS (60LL * 86400 * 1000)
#define SEEN_FILE_MAX (1LL << 32)
#define STATE_MAGIC "aimeter-agent-state 1"
#define FP_BYTES 4096

struct file_state {
	char *path;
	enum event_tool tool;
	uint64_t dev, ino, size, mtime_ns;
	uint64_t head_len, head_fp, tail_len, tail_fp;
	struct scan_cursor cur;
	bool visited;
};

struct tail {
	struct scan *s;
	struct file_state *files;
	size_t n, cap;
	size_t *slots; /* path -> index + 1 */
	size_t n_slots;
	struct tail_stats st;
	bool dirty;
	int64_t now_ms;
	uint64_t settle_ms;
};

/* ---- small helpers ---- */

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

/* Fingerprint of [off, off + len) of fd; 0 when it cannot be read whole. */
static uint64_t
fingerprint(int fd, uint64_t off, uint64_t len)
{
	char buf[FP_BYTES];
	ssize_t r;

	if (len == 0) {
		return FNV0;
	}
	if (len > sizeof(buf)) {
		return 0;
	}
	r = pread(fd, buf, (size_t)len, (off_t)off);
	return r == (ssize_t)len ? fnv(buf, (size_t)len, FNV0) : 0;
}

static void
hex_put(FILE *f, const void *p, size_t n)
{
	const unsigned char *s = p;

	if (n == 0) {
		fputc('-', f);
	}
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%02x", s[i]);
	}
}

static void
hex_str(FILE *f, const char *s)
{
	fputc(' ', f);
	hex_put(f, s, strlen(s));
}

/* Decode hex token tok into buf (NUL-ended). Returns length or -1. */
static int
hex_get(const char *tok, char *buf, size_t size)
{
	size_t len;

	if (strcmp(tok, "-") == 0) {
		buf[0] = '\0';
		return 0;
	}
	if (size == 0 || hex_decode(tok, (uint8_t *)buf, size - 1, &len) < 0) {
		return -1;
	}
	buf[len] = '\0';
	return (int)len;
}

static uint64_t
path_hash(const char *s)
{
	return fnv(s, strlen(s), FNV0);
}

static struct file_state *
find_file(const struct tail *t, const char *path)
{
	if (t->n_slots == 0) {
		return NULL;
	}
	for (size_t j = path_hash(path) & (t->n_slots - 1); t->slots[j] != 0;
	     j = (j + 1) & (t->n_slots - 1)) {
		if (strcmp(t->files[t->slots[j] - 1].path, path) == 0) {
			return &t->files[t->slots[j] - 1];
		}
	}
	return NULL;
}

static struct file_state *
add_file(struct tail *t, const char *path)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct file_state *f = realloc(t->files, cap * sizeof(*f));
		if (f == NULL) {
			return NULL;
		}
		t->files = f;
		t->cap = cap;
	}
	if ((t->n + 1) * 2 > t->n_slots) {
		size_t ns = t->n_slots ? t->n_slots * 2 : 512;
		size_t *slots = calloc(ns, sizeof(*slots));
		if (slots == NULL) {
			return NULL;
		}
		for (size_t i = 0; i < t->n; i++) {
			size_t j = path_hash(t->files[i].path) & (ns - 1);
			while (slots[j] != 0) {
				j = (j + 1) & (ns - 1);
			}
			slots[j] = i + 1;
		}
		free(t->slots);
		t->slots = slots;
		t->n_slots = ns;
	}
	struct file_state *f = &t->files[t->n];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (f->path == NULL) {
		return NULL;
	}
	size_t j = path_hash(path) & (t->n_slots - 1);
	while (t->slots[j] != 0) {
		j = (j + 1) & (t->n_slots - 1);
	}
	t->slots[j] = ++t->n;
	return f;
}

/* ---- state file ---- */

static int
load_state(struct tail *t, const char *dir)
{
	char path[4200];
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;

	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	f = fopen(path, "re");
	if (f == NULL) {
		return errno == ENOENT ? 0 : -errno;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		char *tok[40], *save = NULL;
		int nt = 0;
		lineno++;
		if (line[len - 1] == '\n') {
			line[len - 1] = '\0';
		}
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC) != 0) {
				log_warnx("%s:1: unknown state format, starting afresh", path);
				break;
			}
			continue;
		}
		for (char *p = strtok_r(line, " ", &save); p != NULL && nt < 40;
		     p = strtok_r(NULL, " ", &save)) {
			tok[nt++] = p;
		}
		if (nt == 27 && strcmp(tok[0], "F") == 0) {
			char fpath[4200];
			struct file_state *fs;
			if (hex_get(tok[26], fpath, sizeof(fpath)) <= 0 || (fs = add_file(t, fpath)) == NULL) {
				continue;
			}
			fs->tool = strcmp(tok[1], "codex") == 0 ? EVENT_TOOL_CODEX : EVENT_TOOL_CLAUDE;
			fs->dev = strtoull(tok[2], NULL, 10);
			fs->ino = strtoull(tok[3], NULL, 10);
			fs->size = strtoull(tok[4], NULL, 10);
			fs->mtime_ns = strtoull(tok[5], NULL, 10);
			fs->cur.offset = strtoull(tok[6], NULL, 10);
			fs->head_len = strtoull(tok[7], NULL, 10);
			fs->head_fp = strtoull(tok[8], NULL, 16);
			fs->tail_len = strtoull(tok[9], NULL, 10);
			fs->tail_fp = strtoull(tok[10], NULL, 16);
			char id[64];
			fs->cur.has_open = hex_get(tok[11], id, sizeof(id)) == 16;
			if (fs->cur.has_open) {
				memcpy(fs->cur.open_id, id, 16);
			}
			struct codex_file *cx = &fs->cur.codex;
			cx->has_prev = strcmp(tok[12], "1") == 0;
			for (int i = 0; i < CODEX_TOTAL_MAX; i++) {
				cx->prev[i] = strtoull(tok[13 + i], NULL, 10);
			}
			cx->start_ms = strtoll(tok[18], NULL, 10);
			cx->thread_spawn = strcmp(tok[19], "1") == 0;
			if (hex_get(tok[20], cx->model, sizeof(cx->model)) < 0 ||
			    hex_get(tok[21], cx->session, sizeof(cx->session)) < 0 ||
			    hex_get(tok[22], cx->cwd, sizeof(cx->cwd)) < 0 ||
			    hex_get(tok[23], cx->remote, sizeof(cx->remote)) < 0) {
				memset(cx, 0, sizeof(*cx));
				fs->size = fs->cur.offset = 0; /* read it again from the start */
			}
			(void)tok[24];
			(void)tok[25];
		} else if (nt == 19 && strcmp(tok[0], "P") == 0) {
			/* a pending (unsettled) response */
			struct ledger_obs o;
			char id[64], model[256], session[256], project[PROJECT_LABEL_MAX], speed[64],
				tier[64];
			memset(&o, 0, sizeof(o));
			if (hex_get(tok[1], id, sizeof(id)) != 16 ||
			    hex_get(tok[14], model, sizeof(model)) < 0 ||
			    hex_get(tok[15], session, sizeof(session)) < 0 ||
			    hex_get(tok[16], project, sizeof(project)) < 0 ||
			    hex_get(tok[17], speed, sizeof(speed)) < 0 ||
			    hex_get(tok[18], tier, sizeof(tier)) < 0) {
				continue;
			}
			memcpy(o.id, id, 16);
			o.tool = strcmp(tok[2], "codex") == 0 ? EVENT_TOOL_CODEX : EVENT_TOOL_CLAUDE;
			o.ts_ms = strtoll(tok[3], NULL, 10);
			o.sidechain = strcmp(tok[4], "1") == 0;
			for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
				o.tok[b] = strtoull(tok[5 + b], NULL, 10);
			}
			o.origin = (uint16_t)strtoul(tok[12], NULL, 10);
			if (o.origin >= t->s->n_origins) {
				o.origin = 0;
			}
			o.model = model;
			o.session = session;
			o.project = project;
			o.speed = speed;
			o.tier = tier;
			(void)tok[13];
			(void)ledger_add(&t->s->ledger, &o, NULL);
		}
	}
	free(line);
	fclose(f);
	return 0;
}

static int
save_state(struct tail *t, const char *dir)
{
	char path[4200], tmp[4200];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s/" STATE_FILE ".tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
		}
		return -e;
	}
	fprintf(f, "%s\n", STATE_MAGIC);
	for (size_t i = 0; i < t->n; i++) {
		const struct file_state *fs = &t->files[i];
		const struct codex_file *cx = &fs->cur.codex;
		if (!fs->visited) {
			continue; /* deleted: forgotten */
		}
		fprintf(f, "F %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			   " %" PRIx64 " %" PRIu64 " %" PRIx64 " ",
			fs->tool == EVENT_TOOL_CODEX ? "codex" : "claude", fs->dev, fs->ino, fs->size,
			fs->mtime_ns, fs->cur.offset, fs->head_len, fs->head_fp, fs->tail_len,
			fs->tail_fp);
		hex_put(f, fs->cur.open_id, fs->cur.has_open ? 16 : 0);
		fprintf(f, " %d", cx->has_prev ? 1 : 0);
		for (int k = 0; k < CODEX_TOTAL_MAX; k++) {
			fprintf(f, " %" PRIu64, cx->prev[k]);
		}
		fprintf(f, " %" PRId64 " %d", cx->start_ms, cx->thread_spawn ? 1 : 0);
		hex_str(f, cx->model);
		hex_str(f, cx->session);
		hex_str(f, cx->cwd);
		hex_str(f, cx->remote);
		fprintf(f, " - -");
		hex_str(f, fs->path);
		fputc('\n', f);
	}
	for (size_t i = 0; i < t->s->ledger.n; i++) {
		const struct ledger_rec *r = ledger_at(&t->s->ledger, i);
		const struct ledger *l = &t->s->ledger;
		if (r->flags & (LEDGER_SETTLED | LEDGER_EMITTED)) {
			continue;
		}
		fputs("P ", f);
		hex_put(f, r->id, 16);
		fprintf(f, " %s %" PRId64 " %d", r->tool == EVENT_TOOL_CODEX ? "codex" : "claude",
			r->ts_ms, (r->flags & LEDGER_SIDECHAIN) ? 1 : 0);
		for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
			fprintf(f, " %" PRIu32, r->tok[b]);
		}
		fprintf(f, " %u -", (unsigned)r->origin);
		hex_str(f, ledger_str(l, r->model));
		hex_str(f, ledger_str(l, r->session));
		hex_str(f, ledger_str(l, r->project));
		hex_str(f, ledger_str(l, r->speed));
		hex_str(f, ledger_str(l, r->tier));
		fputc('\n', f);
		t->st.pending++;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		int e = errno;
		fclose(f);
		unlink(tmp);
		return -e;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd); /* make the rename durable; nothing to undo if it fails */
		close(fd);
	}
	return 0;
}

/* ---- seen ids ---- */

struct seen {
	uint8_t (*ids)[16];
	size_t n_slots, n;
	bool loaded;
	int64_t cutoff_ms; /* ids of events before this are forgotten */
	FILE *append;
};

static int
seen_put(struct seen *s, const uint8_t id[16])
{
	static const uint8_t zero[16];
	uint64_t h;

	if ((s->n + 1) * 2 > s->n_slots) {
		size_t ns = s->n_slots ? s->n_slots * 2 : 4096;
		uint8_t(*ids)[16] = calloc(ns, 16);
		if (ids == NULL) {
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->n_slots; i++) {
			if (memcmp(s->ids[i], zero, 16) != 0) {
				memcpy(&h, s->ids[i], sizeof(h));
				size_t j = h & (ns - 1);
				while (memcmp(ids[j], zero, 16) != 0) {
					j = (j + 1) & (ns - 1);
				}
				memcpy(ids[j], s->ids[i], 16);
			}
		}
		free(s->ids);
		s->ids = ids;
		s->n_slots = ns;
	}
	memcpy(&h, id, sizeof(h));
	size_t j = h & (s->n_slots - 1);
	while (memcmp(s->ids[j], zero, 16) != 0) {
		if (memcmp(s->ids[j], id, 16) == 0) {
			return 0;
		}
		j = (j + 1) & (s->n_slots - 1);
	}
	memcpy(s->ids[j], id, 16);
	s->n++;
	return 1;
}

static void
put_le64(uint8_t *p, int64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)((uint64_t)v >> (8 * i));
	}
}

static int64_t
get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v |= (uint64_t)p[i] << (8 * i);
	}
	return (int64_t)v;
}

/* Replace the seen file with the records in buf (after the magic): write, fsync, rename. */
static int
seen_rewrite(const char *dir, const uint8_t *recs, size_t n)
{
	char path[4200], tmp[4200];
	FILE *f;
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s/" SEEN_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s/" SEEN_FILE ".tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		e = -errno;
		if (fd >= 0) {
			close(fd);
		}
		return e;
	}
	if (fwrite(SEEN_MAGIC, SEEN_MAGIC_LEN, 1, f) != 1 ||
	    (n > 0 && fwrite(recs, SEEN_REC, n, f) != n) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		e = -EIO;
	}
	if (fclose(f) != 0 && e == 0) {
		e = -EIO;
	}
	if (e == 0 && rename(tmp, path) != 0) {
		e = -errno;
	}
	if (e < 0) {
		unlink(tmp);
	}
	return e;
}

/*
 * Load the ids handed out whose event time is within SEEN_WINDOW_MS of the
 * newest event time known (in the file or about to be handed out,
 * emit_max_ms), but never later than now_ms: a wrong clock or a timestamp
 * in the future cannot make it forget recent ids. Older ones are dropped,
 * and the file is rewritten without them once they are a quarter of it, so
 * it stays about one window's worth of events long. A file of the first
 * format (bare 16-byte ids, no times) is kept whole for one window.
 */
static int
seen_load(struct seen *s, const char *dir, int64_t now_ms, int64_t emit_max_ms)
{
	char path[4200];
	uint8_t *buf = NULL;
	size_t n = 0, kept = 0;
	bool legacy = false;
	int64_t anchor = emit_max_ms;
	struct stat st;
	FILE *f;
	int r = 0;

	s->loaded = true;
	snprintf(path, sizeof(path), "%s/" SEEN_FILE, dir);
	f = fopen(path, "re");
	if (f != NULL) {
		char magic[SEEN_MAGIC_LEN];
		if (fstat(fileno(f), &st) < 0 || st.st_size > SEEN_FILE_MAX) {
			fclose(f);
			return -EFBIG;
		}
		legacy = st.st_size > 0 && (fread(magic, SEEN_MAGIC_LEN, 1, f) != 1 ||
					    memcmp(magic, SEEN_MAGIC, SEEN_MAGIC_LEN) != 0);
		if (legacy) {
			rewind(f);
		}
		buf = malloc((size_t)st.st_size / 16 * SEEN_REC + SEEN_REC);
		if (buf == NULL) {
			fclose(f);
			return -ENOMEM;
		}
		for (uint8_t *rec = buf;; rec = buf + n * SEEN_REC) {
			if (legacy ? fread(rec, 16, 1, f) != 1 : fread(rec, SEEN_REC, 1, f) != 1) {
				break;
			}
			if (!legacy && get_le64(rec + 16) > anchor) {
				anchor = get_le64(rec + 16);
			}
			n++;
		}
		fclose(f);
	}
	if (anchor == INT64_MIN || anchor > now_ms) {
		anchor = now_ms;
	}
	s->cutoff_ms = anchor - SEEN_WINDOW_MS;
	for (size_t i = 0; i < n; i++) {
		uint8_t *rec = buf + i * SEEN_REC;
		if (legacy) {
			put_le64(rec + 16, anchor); /* no time known: one window from now */
		}
		if (get_le64(rec + 16) < s->cutoff_ms) {
			continue;
		}
		if (seen_put(s, rec) < 0) {
			free(buf);
			return -ENOMEM;
		}
		memmove(buf + kept * SEEN_REC, rec, SEEN_REC);
		kept++;
	}
	if (f == NULL || n == 0 || legacy || (n - kept) * 4 >= n) {
		if (n > kept || n == 0 || legacy) {
			r = seen_rewrite(dir, buf, kept);
		}
	}
	free(buf);
	if (r < 0) {
		return r;
	}
	s->append = fopen(path, "ae");
	return s->append != NULL ? 0 : -errno;
}

/* Remember id (event time ts_ms) as handed out. 1 when new, 0 when known, <0 on error. */
static int
seen_add_id(struct seen *s, const uint8_t id[16], int64_t ts_ms)
{
	uint8_t rec[SEEN_REC];
	int r = seen_put(s, id);

	if (r <= 0) {
		return r;
	}
	if (ts_ms < s->cutoff_ms) {
		return 1; /* would be dropped on the next load: not written */
	}
	memcpy(rec, id, 16);
	put_le64(rec + 16, ts_ms);
	return fwrite(rec, SEEN_REC, 1, s->append) == 1 ? 1 : -EIO;
}

/* ---- the pass ---- */

static void
read_file(struct tail *t, struct file_state *fs, const char *path, const char *rel,
	  uint16_t origin, const struct stat *st, bool from_start)
{
	struct scan *s = t->s;
	bool zst = strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".zst") == 0;
	int fd = scan_open(s, path); /* counts and warns on failure */
	struct stat now;

	if (fd < 0) {
		fs->visited = fd != -ENOENT;
		return;
	}
	if (!from_start && !zst) {
		/* still the same file up to our offset? */
		if (fingerprint(fd, 0, fs->head_len) != fs->head_fp ||
		    fingerprint(fd, fs->cur.offset - fs->tail_len, fs->tail_len) != fs->tail_fp) {
			from_start = true;
		}
	}
	if (from_start || zst) {
		if (fs->cur.has_open) {
			/* the response it was holding can only be final now */
			struct ledger_rec *r = ledger_find(&s->ledger, fs->cur.open_id);
			if (r != NULL) {
				r->flags |= LEDGER_SETTLED;
			}
		}
		memset(&fs->cur, 0, sizeof(fs->cur));
		t->st.reread += fs->size > 0 ? 1 : 0;
	} else {
		t->st.appended++;
	}
	if (!zst && lseek(fd, (off_t)fs->cur.offset, SEEK_SET) < 0) {
		close(fd);
		return;
	}
	(void)scan_read(s, fs->tool, path, rel, origin, fd, zst, &fs->cur);
	/* identity as of the read; a concurrent append is seen next pass */
	if (fstat(fd, &now) < 0) {
		now = *st;
	}
	fs->dev = (uint64_t)now.st_dev;
	fs->ino = (uint64_t)now.st_ino;
	fs->size = (uint64_t)now.st_size;
	fs->mtime_ns = (uint64_t)now.st_mtim.tv_sec * 1000000000ull + (uint64_t)now.st_mtim.tv_nsec;
	fs->head_len = zst ? 0 : (fs->cur.offset < FP_BYTES ? fs->cur.offset : FP_BYTES);
	fs->head_fp = fingerprint(fd, 0, fs->head_len);
	fs->tail_len = zst ? 0 : (fs->cur.offset < FP_BYTES ? fs->cur.offset : FP_BYTES);
	fs->tail_fp = fingerprint(fd, fs->cur.offset - fs->tail_len, fs->tail_len);
	close(fd);
	t->dirty = true;
}

static void
tail_file_cb(struct scan *s, void *ctx, enum event_tool tool, const char *path, const char *rel,
	     uint16_t origin, const struct stat *st)
{
	struct tail *t = ctx;
	struct file_state *fs = find_file(t, path);
	uint64_t mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;

	(void)s;
	t->st.files++;
	if (fs == NULL) {
		fs = add_file(t, path);
		if (fs == NULL) {
			return;
		}
		fs->tool = tool;
		fs->visited = true;
		t->st.new_files++;
		read_file(t, fs, path, rel, origin, st, true);
		return;
	}
	fs->visited = true;
	fs->tool = tool;
	if (fs->dev == (uint64_t)st->st_dev && fs->ino == (uint64_t)st->st_ino &&
	    fs->size == (uint64_t)st->st_size && fs->mtime_ns == mtime_ns) {
		t->st.unchanged++;
		return; /* nothing new: not even opened */
	}
	bool same = fs->dev == (uint64_t)st->st_dev && fs->ino == (uint64_t)st->st_ino &&
		    (uint64_t)st->st_size >= fs->cur.offset;
	read_file(t, fs, path, rel, origin, st, !same);
}

/*
 * event_ts_format, with the date cached: events are mostly written in time
 * order, so the day rarely changes between two of them.
 */
static void
ts_format(int64_t ms, char ret[32])
{
	static int64_t day = INT64_MIN;
	static char date[32];
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t d = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - d * 86400;
	unsigned msec = (unsigned)(ms - secs * 1000);

	if (d != day) {
		event_ts_format(d * 86400000, date);
		if (strlen(date) != 24) {
			day = INT64_MIN; /* a year outside 0..9999: the slow way */
			event_ts_format(ms, ret);
			return;
		}
		day = d;
	}
	memcpy(ret, date, 11); /* "YYYY-MM-DDT" */
	ret[11] = (char)('0' + rem / 36000);
	ret[12] = (char)('0' + rem / 3600 % 10);
	ret[13] = ':';
	ret[14] = (char)('0' + rem / 600 % 6);
	ret[15] = (char)('0' + rem / 60 % 10);
	ret[16] = ':';
	ret[17] = (char)('0' + rem % 60 / 10);
	ret[18] = (char)('0' + rem % 10);
	ret[19] = '.';
	ret[20] = (char)('0' + msec / 100);
	ret[21] = (char)('0' + msec / 10 % 10);
	ret[22] = (char)('0' + msec % 10);
	ret[23] = 'Z';
	ret[24] = '\0';
}

/* A line longer than this (strings of 100 KiB) is not an event worth printing. */
#define TAIL_LINE_MAX (1u << 20)

void
tail_emit_jsonl(const struct scan *s, const struct ledger_rec *r, const char *team_hint, FILE *f)
{
	const struct ledger *l = &s->ledger;
	char line[2048], hex[33], ts[32];
	struct jw w;

	am_event_id_hex(r->id, hex);
	ts_format(r->ts_ms, ts);
	/* the stack holds a usual line: one fwrite per event and no allocation */
	jw_init(&w, line, sizeof(line), TAIL_LINE_MAX);
	jw_object_begin(&w);
	jw_key(&w, "event_id");
	jw_string(&w, hex);
	jw_key(&w, "tool");
	jw_string(&w, event_tool_name((enum event_tool)r->tool));
	jw_key(&w, "ts");
	jw_string(&w, ts);
	jw_key(&w, "model");
	jw_string(&w, ledger_str(l, r->model));
	jw_key(&w, "session");
	jw_string(&w, ledger_str(l, r->session));
	jw_key(&w, "project");
	jw_string(&w, ledger_str(l, r->project));
	jw_key(&w, "user");
	jw_string(&w, s->origins[r->origin].user);
	jw_key(&w, "team_hint");
	jw_string(&w, team_hint != NULL ? team_hint : "");
	jw_key(&w, "billing_mode");
	jw_string(&w, s->origins[r->origin].billing);
	jw_key(&w, "speed");
	jw_string(&w, ledger_str(l, r->speed));
	jw_key(&w, "service_tier");
	jw_string(&w, ledger_str(l, r->tier));
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		jw_key(&w, event_bucket_field((enum event_bucket)b));
		jw_uint(&w, r->tok[b]);
	}
	jw_end(&w);
	/* errors are sticky: a line is printed whole or (out of memory) not at all */
	if (jw_error(&w) == 0) {
		(void)fwrite(jw_data(&w), 1, jw_len(&w), f); /* errors stay on f: callers check fflush */
		(void)putc('\n', f);
	}
	jw_finish(&w);
}

int
tail_pass(struct scan *s, const struct scan_root *roots, size_t n, const char *state_dir,
	  uint64_t settle_seconds, int64_t now_ms, const char *team_hint, FILE *emit,
	  struct tail_stats *ret_stats)
{
	struct tail t;
	struct seen seen;
	int r;

	memset(&t, 0, sizeof(t));
	memset(&seen, 0, sizeof(seen));
	t.s = s;
	t.now_ms = now_ms;
	t.settle_ms = settle_seconds * 1000;
	s->settle_all = false;
	r = load_state(&t, state_dir);
	if (r < 0) {
		goto out;
	}
	size_t pending_before = s->ledger.n;
	scan_walk_all(s, roots, n, tail_file_cb, &t);
	for (size_t i = 0; i < t.n; i++) {
		struct file_state *fs = &t.files[i];
		struct ledger_rec *rec;
		bool gone = !fs->visited;
		bool quiet = (int64_t)(fs->mtime_ns / 1000000) + (int64_t)t.settle_ms <= now_ms;
		if (gone) {
			t.st.removed++;
			t.dirty = true;
		}
		if (fs->cur.has_open && (gone || quiet)) {
			/* deleted, or quiet for the settle time: its last response is final */
			rec = ledger_find(&s->ledger, fs->cur.open_id);
			if (rec != NULL) {
				rec->flags |= LEDGER_SETTLED;
			}
			fs->cur.has_open = false;
			t.dirty = true;
		}
	}
	/* the newest event about to be handed out anchors the seen window */
	int64_t emit_max_ms = INT64_MIN;
	for (size_t i = 0; i < s->ledger.n; i++) {
		const struct ledger_rec *rec = ledger_at(&s->ledger, i);
		if ((rec->flags & LEDGER_SETTLED) && !(rec->flags & LEDGER_EMITTED) &&
		    rec->ts_ms > emit_max_ms) {
			emit_max_ms = rec->ts_ms;
		}
	}
	/* hand out what became final, once */
	for (size_t i = 0; i < s->ledger.n; i++) {
		struct ledger_rec *rec = ledger_at(&s->ledger, i);
		if (!(rec->flags & LEDGER_SETTLED) || (rec->flags & LEDGER_EMITTED)) {
			continue;
		}
		if (!ledger_rec_plausible(rec)) {
			/* a pending response from a damaged state file: dropped, counted */
			rec->flags |= LEDGER_EMITTED;
			s->stat[SCAN_IMPLAUSIBLE]++;
			t.dirty = true;
			continue;
		}
		if (!seen.loaded && (r = seen_load(&seen, state_dir, now_ms, emit_max_ms)) < 0) {
			goto out;
		}
		rec->flags |= LEDGER_EMITTED;
		t.dirty = true;
		r = seen_add_id(&seen, rec->id, rec->ts_ms);
		if (r < 0) {
			goto out;
		}
		if (r == 1) {
			if (emit != NULL) {
				tail_emit_jsonl(s, rec, team_hint, emit);
			}
			t.st.emitted++;
		}
	}
	if (pending_before > 0) {
		t.dirty = true;
	}
	r = 0;
	if (seen.append != NULL) {
		if (emit != NULL && fflush(emit) != 0) {
			r = -EIO;
			goto out;
		}
		/* ids are durable before the state that no longer holds them */
		if (fflush(seen.append) != 0 || fsync(fileno(seen.append)) != 0) {
			r = -errno;
			goto out;
		}
	}
	if (t.dirty) {
		r = save_state(&t, state_dir);
	} else {
		for (size_t i = 0; i < s->ledger.n; i++) {
			if (!(ledger_at(&s->ledger, i)->flags & LEDGER_SETTLED)) {
				t.st.pending++;
			}
		}
	}
out:
	if (seen.append != NULL) {
		fclose(seen.append);
	}
	free(seen.ids);
	for (size_t i = 0; i < t.n; i++) {
		free(t.files[i].path);
	}
	free(t.files);
	free(t.slots);
	if (ret_stats != NULL) {
		*ret_stats = t.st;
	}
	return r;
}
