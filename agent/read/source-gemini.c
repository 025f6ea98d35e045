/* source-gemini.c: the Gemini CLI source; see source-gemini.h. */
#define _GNU_SOURCE /* memmem */
#include "source-gemini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "origin.h"
#include "scan.h"

bool
gemini_line_wanted(const char *line, size_t len)
{
	return memmem(line, len, "\"gemini\"", 8) != NULL ||
	       memmem(line, len, "\"sessionId\"", 11) != NULL;
}

/* tokens {input, output, cached, thoughts, tool}: 1 when counts, 0 when null, absent or all zero, -1 bad. */
static int
tokens(const struct json_doc *d, int t, uint64_t tok[EVENT_BUCKET_MAX])
{
	static const char *const names[] = {"input", "output", "cached", "thoughts", "tool"};
	uint64_t v[5] = {0};

	if (json_is_null(d, t)) {
		return 0;
	}
	if (json_type(d, t) != JSON_OBJECT) {
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		if (json_u64(d, json_get(d, t, names[i]), &v[i]) < 0) {
			return -1;
		}
	}
	/* promptTokenCount includes the cached tokens; thoughts are billed as output */
	memset(tok, 0, EVENT_BUCKET_MAX * sizeof(tok[0]));
	tok[EVENT_INPUT] = (v[0] > v[2] ? v[0] - v[2] : 0) + v[4];
	tok[EVENT_CACHE_READ] = v[2];
	tok[EVENT_OUTPUT] = v[1] + v[3];
	tok[EVENT_REASONING] = v[3];
	/* a call whose counts are all zero is not an event (specs/more-tools.md) */
	return tok[EVENT_INPUT] + tok[EVENT_CACHE_READ] + tok[EVENT_OUTPUT] > 0 ? 1 : 0;
}

/* One message object: 1 when it is a call (o filled), 0 when not usage, -1 when bad. */
static int
message(const struct json_doc *d, int m, struct gemini_file *f, struct gemini_obs *o)
{
	char id[160], ts[64];
	int r;

	if (json_type(d, m) != JSON_OBJECT || !json_str_eq(d, json_get(d, m, "type"), "gemini")) {
		return 0;
	}
	if (json_str(d, json_get(d, m, "model"), o->model, sizeof(o->model)) >= 0 &&
	    o->model[0] != '\0') {
		memcpy(f->model, o->model, sizeof(f->model));
	} else {
		snprintf(o->model, sizeof(o->model), "%s", f->model[0] != '\0' ? f->model : "unknown");
	}
	if ((r = tokens(d, json_get(d, m, "tokens"), o->tok)) <= 0) {
		return r;
	}
	if (json_str(d, json_get(d, m, "id"), id, sizeof(id)) <= 0 ||
	    json_str(d, json_get(d, m, "timestamp"), ts, sizeof(ts)) < 0 ||
	    event_ts_parse(ts, &o->ts_ms) < 0) {
		return -1;
	}
	r = snprintf(o->key, sizeof(o->key), "%s/%s", f->session, id);
	return r < 0 || (size_t)r >= sizeof(o->key) ? -1 : 1;
}

/* Every call in the message array msgs to cb: USAGE, BAD (a bad one among them) or none. */
static enum gemini_line
message_list(const struct json_doc *d, int msgs, struct gemini_file *f, gemini_obs_cb *cb,
	     void *ctx, enum gemini_line none)
{
	struct gemini_obs o;
	bool bad = false, any = false;

	for (int m = json_next(d, msgs, -1); m >= 0; m = json_next(d, msgs, m)) {
		int r = message(d, m, f, &o);
		if (r > 0) {
			cb(ctx, &o);
			any = true;
		}
		bad |= r < 0;
	}
	return bad ? GEMINI_LINE_BAD : any ? GEMINI_LINE_USAGE : none;
}

enum gemini_line
gemini_line_parse(struct json_doc *doc, const char *line, size_t len, struct gemini_file *f,
		  gemini_obs_cb *cb, void *ctx)
{
	struct gemini_obs o;
	int set;

	if (json_parse(doc, line, len) < 0) {
		return GEMINI_LINE_INVALID;
	}
	if (json_type(doc, 0) != JSON_OBJECT) {
		return GEMINI_LINE_OTHER;
	}
	set = json_get(doc, 0, "$set");
	if (set >= 0) {
		/* a checkpoint: the messages it keeps, billed calls among them */
		return message_list(doc, json_get(doc, set, "messages"), f, cb, ctx,
				    GEMINI_LINE_OTHER);
	}
	if (json_type(doc, json_get(doc, 0, "id")) == JSON_STRING) {
		int r = message(doc, 0, f, &o);
		if (r > 0) {
			cb(ctx, &o);
		}
		return r < 0 ? GEMINI_LINE_BAD : r > 0 ? GEMINI_LINE_USAGE : GEMINI_LINE_OTHER;
	}
	/* header-like: only the first names the file's session (a resume writes another) */
	if (!f->has_header && json_get(doc, 0, "$rewindTo") < 0 &&
	    json_str(doc, json_get(doc, 0, "sessionId"), f->session, sizeof(f->session)) > 0) {
		f->has_header = true;
		return GEMINI_LINE_HEADER;
	}
	return GEMINI_LINE_OTHER;
}

enum gemini_line
gemini_doc_parse(struct json_doc *doc, const char *buf, size_t len, struct gemini_file *f,
		 gemini_obs_cb *cb, void *ctx)
{
	/* read whole every time: the model fallback starts again at the first message */
	memset(f, 0, sizeof(*f));
	if (json_parse(doc, buf, len) < 0) {
		return GEMINI_LINE_INVALID; /* caught half written: read again when it changes */
	}
	if (json_type(doc, 0) != JSON_OBJECT ||
	    json_str(doc, json_get(doc, 0, "sessionId"), f->session, sizeof(f->session)) <= 0) {
		return GEMINI_LINE_OTHER;
	}
	f->has_header = true;
	return message_list(doc, json_get(doc, 0, "messages"), f, cb, ctx, GEMINI_LINE_HEADER);
}

/* ---- the source ---- */

_Static_assert(sizeof(struct gemini_file) <= SCAN_CURSOR_STATE, "gemini state fits a cursor");

static struct gemini_file *
state_of(struct scan_cursor *cur)
{
	return (struct gemini_file *)(void *)cur->state;
}

/* Only files below a chats/ dir are sessions; tmp/ also holds tool output and logs. */
struct chats_only {
	scan_file_cb *cb;
	void *ctx;
};

static void
in_chats(struct scan *s, void *ctx, enum event_tool tool, const char *path, const char *rel,
	 uint16_t origin, const struct stat *st)
{
	const struct chats_only *c = ctx;

	if (strstr(rel, "/chats/") != NULL) {
		c->cb(s, c->ctx, tool, path, rel, origin, st);
	}
}

void
gemini_walk_chats(struct scan *s, const struct scan_root *root, const char *sub, scan_file_cb *cb,
		  void *ctx)
{
	struct chats_only c = {cb, ctx};

	scan_walk_dir(s, root, root->path, sub, in_chats, &c);
}

static void
gemini_walk(struct scan *s, const struct scan_root *root, scan_file_cb *cb, void *ctx)
{
	gemini_walk_chats(s, root, "tmp", cb, ctx);
}

/* Sessions: JSONL from 0.39, the legacy whole-document .json before. */
static bool
gemini_wanted(const char *name)
{
	return scan_name_ends(name, ".jsonl") || scan_name_ends(name, ".json");
}

static const struct scan_skip skips[GEMINI_LINE_MAX] = {
	[GEMINI_LINE_INVALID] = {true, SCAN_INVALID_JSON, "invalid JSON line"},
	[GEMINI_LINE_BAD] = {true, SCAN_BAD_LINES, "gemini message with bad fields"},
};

struct line_ctx {
	struct scan *s;
	const struct source_file *file;
	uint64_t off;
	struct scan_cursor *cur;
	struct gemini_file *f;
};

static void
take(void *ctx, const struct gemini_obs *o)
{
	struct line_ctx *l = ctx;
	struct source_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.ts_ms = o->ts_ms;
	memcpy(rec.tok, o->tok, sizeof(rec.tok));
	rec.model = o->model;
	rec.session = l->f->session;
	rec.project = "";
	rec.final = true; /* every copy with tokens carries the same numbers */
	rec.key_src = o->key;
	(void)scan_record(l->s, EVENT_TOOL_GEMINI, l->file, l->off, l->cur, &rec);
}

static void
gemini_read_line(struct scan *s, const struct source_file *file, const char *line, size_t len,
		 uint64_t off, struct scan_cursor *cur)
{
	struct line_ctx l = {s, file, off, cur, state_of(cur)};
	enum gemini_line kind =
		scan_name_ends(file->rel, ".json")
			? gemini_doc_parse(&s->doc, line, len, l.f, take, &l)
			: gemini_line_parse(&s->doc, line, len, l.f, take, &l);

	if (kind != GEMINI_LINE_USAGE && kind != GEMINI_LINE_HEADER) {
		scan_skip(s, file, off, &skips[kind]);
	}
}

int
gemini_string_key(const void *key_src, const struct source_file *file, uint64_t off, char *ret,
		  size_t size)
{
	int n = snprintf(ret, size, "%s", (const char *)key_src);

	(void)file;
	(void)off;
	return n < 0 || (size_t)n >= size ? -1 : n;
}

static void
gemini_cursor_encode(const struct scan_cursor *cur, struct blob_w *b)
{
	const struct gemini_file *f = (const struct gemini_file *)(const void *)cur->state;

	blob_put32(b, f->has_header ? 1 : 0);
	blob_put_str(b, f->session);
	blob_put_str(b, f->model);
}

static void
gemini_cursor_decode(struct scan_cursor *cur, struct blob_r *r)
{
	struct gemini_file *f = state_of(cur);

	memset(f, 0, sizeof(*f));
	f->has_header = (blob_get32(r) & 1) != 0;
	blob_get_str(r, f->session, sizeof(f->session));
	blob_get_str(r, f->model, sizeof(f->model));
}

enum event_billing
gemini_auth_billing(const char *root, const struct owned *o, const struct gemini_auth *modes,
		    size_t n)
{
	struct json_doc doc;
	char path[4200], *buf;
	enum event_billing mode = EVENT_BILLING_UNKNOWN;

	json_doc_init(&doc);
	snprintf(path, sizeof(path), "%s/settings.json", root);
	if ((buf = origin_load_json(path, o, &doc)) != NULL) {
		int t = json_path(&doc, 0, "security", "auth", "selectedType", NULL);
		for (size_t i = 0; i < n; i++) {
			if (json_str_eq(&doc, t, modes[i].type)) {
				mode = modes[i].mode;
			}
		}
		free(buf);
	}
	json_doc_finish(&doc);
	return mode;
}

/* Google login (free tier or Code Assist), an API key, Vertex AI. */
static enum event_billing
gemini_billing(const char *root, const struct owned *o)
{
	static const struct gemini_auth modes[] = {
		{"oauth-personal", EVENT_BILLING_SUBSCRIPTION},
		{"gemini-api-key", EVENT_BILLING_API},
		{"vertex-ai", EVENT_BILLING_CLOUD},
	};

	return gemini_auth_billing(root, o, modes, sizeof(modes) / sizeof(modes[0]));
}

const struct source_ops source_gemini = {
	.tool = EVENT_TOOL_GEMINI,
	.name = "gemini-cli",
	.key = "gemini",
	.dir_help = "a Gemini CLI data dir (~/.gemini, holds tmp/)",
	.env = NULL,
	.watch_dir = "tmp",
	.home_dir = ".gemini",
	.walk = gemini_walk,
	.wanted = gemini_wanted,
	.whole_suffix = ".json", /* the legacy sessions, rewritten in place */
	.prefilter = gemini_line_wanted,
	.read_line = gemini_read_line,
	.dedup_key = gemini_string_key,
	.cursor_encode = gemini_cursor_encode,
	.cursor_decode = gemini_cursor_decode,
	.billing = gemini_billing,
	.account = NULL,
};
