/*
 * tail.c: `collect`'s back end of the tracking engine; see tail.h.
 *
 * The state file (files.state) holds the engine's snapshot blob
 * (track_encode), the same encoding the daemon keeps in its spool. The
 * first format, a text file with one line per file and raw paths
 * ("aimeter-agent-state 1"), is read once and replaced: paths become their
 * keys, Codex working directories and remotes the labels they produce.
 */
#include "tail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"
#include "jsonl.h"
#include "log.h"
#include "replace.h"
#include "seen.h"
#include "track.h"

#define STATE_FILE "files.state"
#define STATE_MAX (256 << 20)
#define LEGACY_MAGIC "aimeter-agent-state 1"

/* ---- the first format, read once ---- */

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

/* An unsigned decimal or hex token; garbage reads as 0 (the file is then read again). */
static uint64_t
num(const char *tok, int base)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(tok, &end, base);
	return errno != 0 || *end != '\0' || tok[0] == '-' ? 0 : (uint64_t)v;
}

/*
 * The label the old file's Codex cwd and remote produce. Reading another
 * user's git files for it (collect as root) is done under the rule of the
 * user who owns the log file.
 */
static const char *
legacy_label(struct scan *s, const char *path, const char *remote, const char *cwd)
{
	struct owned o = {0};
	struct stat st;

	if (remote[0] == '\0' && cwd[0] == '\0') {
		return "";
	}
	if (geteuid() == 0 && lstat(path, &st) == 0 && st.st_uid != 0) {
		o.strict = true;
		o.uid = st.st_uid;
	}
	return project_label(s->project, remote, cwd, o.strict ? &o : NULL);
}

static void
legacy_file(struct track *t, char **tok)
{
	struct scan *s = t->scan;
	char path[4200], id[64], model[128], session[80], cwd[1024], remote[1024];
	uint8_t key[16];
	uint64_t totals_start[6];
	struct track_file *fs;

	if (hex_get(tok[26], path, sizeof(path)) <= 0) {
		return;
	}
	track_path_key(path, key);
	if ((fs = track_find(t, key)) == NULL && (fs = track_add_file(t, key)) == NULL) {
		return;
	}
	fs->tool = strcmp(tok[1], "codex") == 0 ? EVENT_TOOL_CODEX : EVENT_TOOL_CLAUDE;
	fs->dev = num(tok[2], 10);
	fs->ino = num(tok[3], 10);
	fs->size = num(tok[4], 10);
	fs->mtime_ns = num(tok[5], 10);
	fs->cur.offset = num(tok[6], 10);
	fs->head_len = num(tok[7], 10);
	fs->head_fp = num(tok[8], 16);
	fs->tail_len = num(tok[9], 10);
	fs->tail_fp = num(tok[10], 16);
	fs->cur.has_open = hex_get(tok[11], id, sizeof(id)) == 16;
	if (fs->cur.has_open) {
		memcpy(fs->cur.open_id, id, 16);
	}
	for (int i = 0; i < 5; i++) {
		totals_start[i] = num(tok[13 + i], 10);
	}
	totals_start[5] = (uint64_t)strtoll(tok[18], NULL, 10);
	if (hex_get(tok[20], model, sizeof(model)) < 0 ||
	    hex_get(tok[21], session, sizeof(session)) < 0 ||
	    hex_get(tok[22], cwd, sizeof(cwd)) < 0 || hex_get(tok[23], remote, sizeof(remote)) < 0 ||
	    track_legacy_cursor(fs, strcmp(tok[12], "1") == 0, strcmp(tok[19], "1") == 0,
				totals_start, model, session,
				legacy_label(s, path, remote, cwd)) < 0) {
		scan_cursor_reset(&fs->cur);
		fs->size = 0; /* read it again from the start */
	}
}

static void
legacy_pending(struct track *t, char **tok)
{
	struct scan *s = t->scan;
	struct ledger_obs o;
	char id[64], model[256], session[256], project[PROJECT_LABEL_MAX], speed[64], tier[64];

	memset(&o, 0, sizeof(o));
	if (hex_get(tok[1], id, sizeof(id)) != 16 || hex_get(tok[14], model, sizeof(model)) < 0 ||
	    hex_get(tok[15], session, sizeof(session)) < 0 ||
	    hex_get(tok[16], project, sizeof(project)) < 0 ||
	    hex_get(tok[17], speed, sizeof(speed)) < 0 || hex_get(tok[18], tier, sizeof(tier)) < 0) {
		return;
	}
	memcpy(o.id, id, 16);
	o.tool = strcmp(tok[2], "codex") == 0 ? EVENT_TOOL_CODEX : EVENT_TOOL_CLAUDE;
	o.ts_ms = strtoll(tok[3], NULL, 10);
	o.sidechain = strcmp(tok[4], "1") == 0;
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		o.tok[b] = num(tok[5 + b], 10);
	}
	o.origin = (uint16_t)num(tok[12], 10);
	if (o.origin >= s->n_origins) {
		o.origin = 0;
	}
	o.model = model;
	o.session = session;
	o.project = project;
	o.speed = speed;
	o.tier = tier;
	(void)ledger_add(&s->ledger, &o, NULL); /* out of memory: the response is read again */
}

/* The text of the first format (NUL-ended, modified in place). */
static void
load_legacy(struct track *t, char *text)
{
	char *save_line = NULL;

	(void)strtok_r(text, "\n", &save_line); /* the magic line */
	for (char *line = strtok_r(NULL, "\n", &save_line); line != NULL;
	     line = strtok_r(NULL, "\n", &save_line)) {
		char *tok[40], *save = NULL;
		int nt = 0;
		for (char *p = strtok_r(line, " ", &save); p != NULL && nt < 40;
		     p = strtok_r(NULL, " ", &save)) {
			tok[nt++] = p;
		}
		if (nt == 27 && strcmp(tok[0], "F") == 0) {
			legacy_file(t, tok);
		} else if (nt == 19 && strcmp(tok[0], "P") == 0) {
			legacy_pending(t, tok);
		}
	}
}

/* ---- the state file ---- */

/* Load dir's state into t. *ret_migrated: it was of the first format. 0 or a negative errno. */
static int
load_state(struct track *t, const char *dir, bool *ret_migrated)
{
	char path[4200];
	struct stat st;
	char *buf;
	int fd, r = 0;

	*ret_migrated = false;
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (fstat(fd, &st) < 0 || st.st_size > STATE_MAX) {
		close(fd);
		log_warnx("%s: state file unreadable or too large, starting afresh", path);
		return 0;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
		r = -EIO;
	}
	close(fd);
	buf[r == 0 ? st.st_size : 0] = '\0';
	size_t magic_len = sizeof(LEGACY_MAGIC) - 1;
	if (r < 0) {
		/* nothing read: the pass starts afresh and replaces it */
	} else if ((size_t)st.st_size > magic_len && memcmp(buf, LEGACY_MAGIC, magic_len) == 0 &&
		   buf[magic_len] == '\n') {
		load_legacy(t, buf);
		*ret_migrated = true;
	} else if (st.st_size > 0 && track_decode(t, (uint8_t *)buf, (size_t)st.st_size, true) < 0) {
		log_warnx("%s: unknown or damaged state, starting afresh", path);
		track_reset(t);
	}
	free(buf);
	return r == -ENOMEM ? r : 0;
}

static int
save_state(const struct track *t, const char *dir)
{
	uint8_t *blob;
	size_t len;
	int r = track_encode(t, true, &blob, &len);

	if (r < 0) {
		return r;
	}
	r = replace_file(dir, STATE_FILE, blob, len, NULL, 0);
	free(blob);
	return r;
}

/* ---- the pass ---- */

/* Hand out the settled responses, each id once (seen.h). */
static int
emit_settled(struct track *t, const char *state_dir, int64_t now_ms, const char *team_hint,
	     FILE *emit, struct tail_stats *st, bool *dirty)
{
	struct scan *s = t->scan;
	struct seen seen;
	size_t *idx = NULL, n = 0;
	int64_t emit_max_ms = INT64_MIN;
	struct jsonl out;
	int r;

	memset(&seen, 0, sizeof(seen));
	jsonl_init(&out, emit, team_hint);
	r = track_take_settled(t, &idx, &n);
	if (r < 0 || n == 0) {
		return r;
	}
	/* the newest event about to be handed out anchors the seen window */
	for (size_t i = 0; i < n; i++) {
		const struct ledger_rec *rec = ledger_at(&s->ledger, idx[i]);
		if (rec->ts_ms > emit_max_ms) {
			emit_max_ms = rec->ts_ms;
		}
	}
	r = seen_load(&seen, state_dir, now_ms, emit_max_ms);
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct ledger_rec *rec = ledger_at(&s->ledger, idx[i]);
		rec->flags |= LEDGER_EMITTED;
		*dirty = true;
		r = seen_add_id(&seen, rec->id, rec->ts_ms);
		if (r == 1) {
			if (emit != NULL) {
				jsonl_write_event(&out, s, rec);
			}
			st->emitted++;
		}
	}
	if (r >= 0 && emit != NULL && fflush(emit) != 0) {
		r = -EIO;
	}
	/* ids are durable before the state that no longer holds them */
	if (r >= 0) {
		r = seen_sync(&seen);
	}
	seen_finish(&seen);
	free(idx);
	return r < 0 ? r : 0;
}

int
tail_pass(struct scan *s, const struct scan_root *roots, size_t n, const char *state_dir,
	  uint64_t settle_seconds, int64_t now_ms, const char *team_hint, FILE *emit,
	  struct tail_stats *ret_stats)
{
	struct track t;
	struct tail_stats st;
	bool dirty;
	int r;

	memset(&st, 0, sizeof(st));
	track_init(&t, s, settle_seconds);
	r = load_state(&t, state_dir, &dirty);
	if (r < 0) {
		goto out;
	}
	dirty = dirty || track_pending(&t) > 0;
	track_pass(&t, roots, n, now_ms);
	dirty = dirty || track_changed(&t);
	r = emit_settled(&t, state_dir, now_ms, team_hint, emit, &st, &dirty);
	if (r < 0) {
		goto out;
	}
	st.pending = track_pending(&t);
	if (dirty) {
		r = save_state(&t, state_dir);
	}
out:
	st.files = t.st.files;
	st.unchanged = t.st.unchanged;
	st.appended = t.st.appended;
	st.reread = t.st.reread;
	st.new_files = t.st.new_files;
	st.removed = t.st.removed;
	track_finish(&t);
	if (ret_stats != NULL) {
		*ret_stats = st;
	}
	return r;
}
