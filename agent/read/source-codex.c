/* source-codex.c: the Codex CLI source; see source-codex.h. */
#include "source-codex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action-read.h"
#include "event_id.h"
#include "ledger.h"
#include "lines.h"
#include "origin.h"
#include "project.h"
#include "scan.h"

bool
codex_line_wanted(const char *line, size_t len)
{
	return lines_has(line, len, "\"token_count\"", 13) ||
	       lines_has(line, len, "\"turn_context\"", 14) ||
	       lines_has(line, len, "\"session_meta\"", 14) ||
	       lines_has(line, len, "\"thread_settings_applied\"", 25);
}

/* The prefilter: usage lines, and lines that may carry a tool call or its result. */
static bool
codex_prefilter(const char *line, size_t len)
{
	return codex_line_wanted(line, len) ||
	       lines_has(line, len, ACTION_CODEX_NEEDLE, sizeof(ACTION_CODEX_NEEDLE) - 1) ||
	       lines_has(line, len, ACTION_CODEX_NEEDLE_WEB, sizeof(ACTION_CODEX_NEEDLE_WEB) - 1) ||
	       lines_has(line, len, ACTION_CODEX_NEEDLE_FILE, sizeof(ACTION_CODEX_NEEDLE_FILE) - 1);
}

static void
opt_str(const struct json_doc *d, int t, char *buf, size_t size)
{
	if (json_str(d, t, buf, size) < 0) {
		buf[0] = '\0';
	}
}

static const char *const tier_names[CODEX_TIER_MAX] = { "", "priority", "flex" };

/*
 * The service tier of an event_msg thread_settings_applied (written when a
 * thread starts or resumes, with the thread's settings in full), as the
 * database prices it: "priority", or "fast" (the configuration's name for
 * it); "flex"; anything else ("default", absent) is the standard rate.
 */
static void
read_tier(const struct json_doc *d, int payload, struct codex_file *f)
{
	int t = json_path(d, payload, "thread_settings", "service_tier", NULL);

	if (json_str_eq(d, t, "priority") || json_str_eq(d, t, "fast")) {
		f->tier = CODEX_TIER_PRIORITY;
	} else if (json_str_eq(d, t, "flex")) {
		f->tier = CODEX_TIER_FLEX;
	} else {
		f->tier = CODEX_TIER_STANDARD;
	}
}

/*
 * Read a TokenUsage object; its cache_write_input_tokens (0 when absent)
 * into ret_cw. Returns 1 when present, 0 when absent or null, -1 when bad.
 */
static int
usage(const struct json_doc *d, int t, uint64_t ret[CODEX_TOTAL_MAX], uint64_t *ret_cw)
{
	static const char *const names[CODEX_TOTAL_MAX] = {
		"input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens",
		"total_tokens",
	};

	if (json_is_null(d, t)) {
		return 0;
	}
	if (json_type(d, t) != JSON_OBJECT) {
		return -1;
	}
	for (int i = 0; i < CODEX_TOTAL_MAX; i++) {
		uint64_t v = 0;
		int r = json_u64(d, json_get(d, t, names[i]), &v);
		if (r < 0) {
			return -1;
		}
		ret[i] = r > 0 ? v : 0;
	}
	{
		uint64_t v = 0;
		int r = json_u64(d, json_get(d, t, "cache_write_input_tokens"), &v);
		if (r < 0) {
			return -1;
		}
		*ret_cw = r > 0 ? v : 0;
	}
	if (json_is_null(d, json_get(d, t, "total_tokens"))) {
		ret[CODEX_TOTAL] = ret[CODEX_IN] + ret[CODEX_OUT]; /* never adds reasoning */
	}
	return 1;
}

/* Cached reads and cache writes are parts of input: each clamped to what is left of it. */
static void
to_buckets(const uint64_t d[CODEX_TOTAL_MAX], uint64_t cache_write, uint64_t tok[EVENT_BUCKET_MAX])
{
	uint64_t cached = d[CODEX_CACHED] < d[CODEX_IN] ? d[CODEX_CACHED] : d[CODEX_IN];
	uint64_t written = cache_write < d[CODEX_IN] - cached ? cache_write : d[CODEX_IN] - cached;

	memset(tok, 0, EVENT_BUCKET_MAX * sizeof(tok[0]));
	tok[EVENT_INPUT] = d[CODEX_IN] - cached - written;
	tok[EVENT_CACHE_WRITE_5M] = written; /* Codex does not split writes by TTL */
	tok[EVENT_CACHE_READ] = cached;
	tok[EVENT_OUTPUT] = d[CODEX_OUT];
	tok[EVENT_REASONING] = d[CODEX_REASONING] < d[CODEX_OUT] ? d[CODEX_REASONING] : d[CODEX_OUT];
}

static enum codex_line
token_count(const struct json_doc *d, int payload, const char *ts, int64_t ts_ms,
	    struct codex_file *f, struct codex_obs *o)
{
	int info = json_get(d, payload, "info");
	uint64_t total[CODEX_TOTAL_MAX] = {0}, last[CODEX_TOTAL_MAX] = {0}, delta[CODEX_TOTAL_MAX];
	uint64_t total_cw = 0, last_cw = 0, delta_cw;
	int has_total, has_last;
	bool advanced = false, backwards = false;

	if (json_is_null(d, info)) {
		return CODEX_LINE_INFO_NULL;
	}
	if (json_type(d, info) != JSON_OBJECT) {
		return CODEX_LINE_BAD;
	}
	has_total = usage(d, json_get(d, info, "total_token_usage"), total, &total_cw);
	has_last = usage(d, json_get(d, info, "last_token_usage"), last, &last_cw);
	if (has_total < 0 || has_last < 0 || (has_total == 0 && has_last == 0)) {
		return CODEX_LINE_BAD;
	}
	if (has_total == 0) {
		/* No cumulative totals: the per-call usage is all there is. */
		memcpy(delta, last, sizeof(delta));
		delta_cw = last_cw;
		am_codex_dedup_key(ts, last[CODEX_IN], last[CODEX_CACHED], last[CODEX_OUT],
				   last[CODEX_REASONING], last[CODEX_TOTAL], o->key, sizeof(o->key));
	} else {
		for (int i = 0; i < CODEX_TOTAL_MAX; i++) {
			uint64_t prev = f->has_prev ? f->prev[i] : 0;
			if (total[i] < prev) {
				backwards = true;
			} else if (total[i] > prev) {
				advanced = true;
			}
		}
		if (backwards) {
			if (has_last == 0) {
				memcpy(delta, total, sizeof(delta)); /* a reset to these totals */
				delta_cw = total_cw;
			} else {
				memcpy(delta, last, sizeof(delta));
				delta_cw = last_cw;
			}
		} else {
			for (int i = 0; i < CODEX_TOTAL_MAX; i++) {
				delta[i] = total[i] - (f->has_prev ? f->prev[i] : 0);
			}
			/* cache writes are part of input: they never advance alone */
			delta_cw = total_cw > f->prev_cache_write ? total_cw - f->prev_cache_write : 0;
			if (f->cw_unknown) {
				delta_cw = has_last ? last_cw : 0; /* no baseline: the call's own */
			}
		}
		memcpy(f->prev, total, sizeof(f->prev));
		f->prev_cache_write = total_cw;
		f->cw_unknown = false;
		f->has_prev = true;
		if (!advanced && !backwards) {
			return CODEX_LINE_UNCHANGED;
		}
		am_codex_dedup_key(ts, total[CODEX_IN], total[CODEX_CACHED], total[CODEX_OUT],
				   total[CODEX_REASONING], total[CODEX_TOTAL], o->key, sizeof(o->key));
	}
	if (f->thread_spawn && f->start_ms != 0 && ts_ms < f->start_ms) {
		return CODEX_LINE_REPLAY;
	}
	o->ts_ms = ts_ms;
	o->tier = tier_names[f->tier < CODEX_TIER_MAX ? f->tier : CODEX_TIER_STANDARD];
	to_buckets(delta, delta_cw, o->tok);
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		if (o->tok[b] > LEDGER_TOK_MAX) {
			return CODEX_LINE_BAD; /* no single call is that large */
		}
	}
	return CODEX_LINE_EVENT;
}

enum codex_line
codex_line_parse(struct json_doc *doc, const char *line, size_t len, struct codex_file *f,
		 struct codex_obs *ret_obs)
{
	int payload, t;
	char ts[64];
	int64_t ts_ms = 0;

	if (json_parse(doc, line, len) < 0) {
		return CODEX_LINE_INVALID;
	}
	t = json_get(doc, 0, "type");
	payload = json_get(doc, 0, "payload");
	if (json_type(doc, payload) != JSON_OBJECT) {
		return CODEX_LINE_OTHER;
	}
	if (json_str(doc, json_get(doc, 0, "timestamp"), ts, sizeof(ts)) < 0 ||
	    event_ts_parse(ts, &ts_ms) < 0) {
		ts[0] = '\0';
	}
	if (json_str_eq(doc, t, "session_meta")) {
		char src[256];
		char meta_ts[64];
		opt_str(doc, json_get(doc, payload, "id"), f->session, sizeof(f->session));
		opt_str(doc, json_get(doc, payload, "cwd"), f->cwd, sizeof(f->cwd));
		opt_str(doc, json_path(doc, payload, "git", "repository_url", NULL), f->remote,
			sizeof(f->remote));
		/* source is a string ("cli") or an object for sub-agents
		 * ({"subagent":{"thread_spawn":{...}}}): look for the key. */
		int s = json_get(doc, payload, "source");
		f->thread_spawn = false;
		f->subagent = false;
		if (json_type(doc, s) == JSON_OBJECT) {
			int sub = json_get(doc, s, "subagent");
			f->subagent = sub >= 0;
			f->thread_spawn = json_get(doc, sub, "thread_spawn") >= 0 ||
					  json_get(doc, s, "thread_spawn") >= 0;
		} else if (json_str(doc, s, src, sizeof(src)) >= 0) {
			f->thread_spawn = strstr(src, "thread_spawn") != NULL;
		}
		if (json_str(doc, json_get(doc, payload, "timestamp"), meta_ts, sizeof(meta_ts)) < 0 ||
		    event_ts_parse(meta_ts, &f->start_ms) < 0) {
			f->start_ms = ts[0] != '\0' ? ts_ms : 0;
		}
		return CODEX_LINE_META;
	}
	if (json_str_eq(doc, t, "turn_context")) {
		char model[128];
		if (json_str(doc, json_get(doc, payload, "model"), model, sizeof(model)) >= 0) {
			memcpy(f->model, model, sizeof(model));
		}
		char cwd[1024];
		if (json_str(doc, json_get(doc, payload, "cwd"), cwd, sizeof(cwd)) >= 0 &&
		    f->cwd[0] == '\0') {
			memcpy(f->cwd, cwd, sizeof(cwd));
		}
		return CODEX_LINE_META;
	}
	if (json_str_eq(doc, t, "event_msg") &&
	    json_str_eq(doc, json_get(doc, payload, "type"), "thread_settings_applied")) {
		read_tier(doc, payload, f);
		return CODEX_LINE_META;
	}
	if (!json_str_eq(doc, t, "event_msg") ||
	    !json_str_eq(doc, json_get(doc, payload, "type"), "token_count")) {
		return CODEX_LINE_OTHER;
	}
	if (ts[0] == '\0') {
		return CODEX_LINE_BAD;
	}
	return token_count(doc, payload, ts, ts_ms, f, ret_obs);
}

/* ---- the source ---- */

_Static_assert(sizeof(struct codex_file) <= SCAN_CURSOR_STATE, "codex state fits a cursor");
_Static_assert(_Alignof(struct codex_file) <= 16, "codex state alignment");

static struct codex_file *
state_of(struct scan_cursor *cur)
{
	return (struct codex_file *)(void *)cur->state;
}

static void
codex_walk(struct scan *s, const struct scan_root *root, scan_file_cb *cb, void *ctx)
{
	scan_walk_dir(s, root, root->path, "sessions", cb, ctx);
	scan_walk_dir(s, root, root->path, "archived_sessions", cb, ctx);
}

static bool
codex_wanted(const char *name)
{
	return strncmp(name, "rollout-", 8) == 0 &&
	       (scan_name_ends(name, ".jsonl") || scan_name_ends(name, ".jsonl.zst"));
}

/*
 * The project label of the file's events: from its working directory and
 * remote while they are known; a file resumed from saved state has only the
 * label they produced (no text a user wrote is saved), until a later line
 * names them again.
 */
static const char *
file_label(struct scan *s, const struct source_file *file, struct codex_file *cx)
{
	if (cx->cwd[0] != '\0' || cx->remote[0] != '\0') {
		const char *l = project_label(s->project, cx->remote, cx->cwd, file->owned);
		if (strcmp(l, cx->label) != 0) {
			snprintf(cx->label, sizeof(cx->label), "%s", l);
		}
	}
	return cx->label;
}

/*
 * Whether Codex sends the priority tier it is configured with for model:
 * only for models its catalogue advertises it for, and for models it does
 * not know; for the others it warns and sends none (standard billing),
 * while thread_settings still names it. Codex 0.169, probed against the
 * realtools stand-in: sent for gpt-5.5*, gpt-5.6* and unknown ids; not for
 * gpt-5, gpt-5-codex, gpt-5.1*, gpt-5.2, gpt-5.3-codex, gpt-5.4*, o3.
 */
static bool
codex_sends_priority(const char *model)
{
	static const char *const older[] = { "gpt-5.1", "gpt-5.2", "gpt-5.3", "gpt-5.4", "gpt-5-",
					     "gpt-4", "o1", "o3", "o4", "codex-mini" };

	if (strcmp(model, "gpt-5") == 0) {
		return false;
	}
	for (size_t i = 0; i < sizeof(older) / sizeof(older[0]); i++) {
		if (strncmp(model, older[i], strlen(older[i])) == 0) {
			return false;
		}
	}
	return true;
}

/* Lines that are not events: what is counted, and what is worth a warning. */
static const struct scan_skip skips[CODEX_LINE_MAX] = {
	[CODEX_LINE_INVALID] = {true, SCAN_INVALID_JSON, "invalid JSON line"},
	[CODEX_LINE_BAD] = {true, SCAN_BAD_LINES, "token_count line with bad fields"},
	[CODEX_LINE_UNCHANGED] = {true, SCAN_CODEX_UNCHANGED, NULL},
	[CODEX_LINE_INFO_NULL] = {true, SCAN_CODEX_INFO_NULL, NULL},
	[CODEX_LINE_REPLAY] = {true, SCAN_CODEX_REPLAY, NULL},
};

static void
codex_read_line(struct scan *s, const struct source_file *file, const char *line, size_t len,
		uint64_t off, struct scan_cursor *cur)
{
	struct codex_file *cx = state_of(cur);
	struct codex_obs o;
	struct source_rec rec;

	enum codex_line kind = codex_line_parse(&s->doc, line, len, cx, &o);
	if (kind == CODEX_LINE_OTHER && s->actions != NULL) {
		action_codex_line(s, file, &s->doc, cx, file_label(s, file, cx));
	}
	if (kind != CODEX_LINE_EVENT) {
		scan_skip(s, file, off, &skips[kind]);
		return;
	}
	if (cx->session[0] == '\0') {
		/* no session_meta: rollout-<time>-<thread id>.jsonl[.zst] */
		const char *b = strrchr(file->path, '/');
		const char *dot = strstr(b ? b : file->path, ".jsonl");
		if (dot != NULL && dot - file->path >= 36) {
			snprintf(cx->session, sizeof(cx->session), "%.36s", dot - 36);
		}
	}
	source_rec_usage(&rec, o.ts_ms, o.tok, cx->model);
	rec.tier = strcmp(o.tier, "priority") == 0 && !codex_sends_priority(cx->model) ? "" : o.tier;
	rec.session = cx->session;
	rec.project = file_label(s, file, cx);
	rec.final = true; /* cumulative totals are final when written */
	rec.key_src = &o;
	if (scan_record(s, EVENT_TOOL_CODEX, file, off, cur, &rec) && cx->model[0] == '\0') {
		s->stat[SCAN_CODEX_NO_MODEL]++;
	}
}

static int
codex_key(const void *key_src, const struct source_file *file, uint64_t off, char *ret,
	  size_t size)
{
	const struct codex_obs *o = key_src;
	int n = snprintf(ret, size, "%s", o->key);

	(void)file;
	(void)off;
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* CX_TIER_CW: the cache-write total and the tier follow (states saved before have neither). */
enum { CX_HAS_PREV = 1, CX_SPAWN = 2, CX_SUBAGENT = 4, CX_TIER_CW = 8 };

/* Everything but the working directory and remote: the label stands in for them. */
static void
codex_cursor_encode(const struct scan_cursor *cur, struct blob_w *b)
{
	const struct codex_file *cx = (const struct codex_file *)(const void *)cur->state;

	blob_put32(b, (cx->has_prev ? CX_HAS_PREV : 0) | (cx->thread_spawn ? CX_SPAWN : 0) |
		   (cx->subagent ? CX_SUBAGENT : 0) | CX_TIER_CW);
	for (int i = 0; i < CODEX_TOTAL_MAX; i++) {
		blob_put64(b, cx->prev[i]);
	}
	blob_put64(b, (uint64_t)cx->start_ms);
	blob_put_str(b, cx->model);
	blob_put_str(b, cx->session);
	blob_put_str(b, cx->label);
	blob_put64(b, cx->prev_cache_write);
	blob_put32(b, cx->tier);
}

static void
codex_cursor_decode(struct scan_cursor *cur, struct blob_r *r)
{
	struct codex_file *cx = state_of(cur);
	uint32_t flags = blob_get32(r);

	memset(cx, 0, sizeof(*cx));
	cx->has_prev = (flags & CX_HAS_PREV) != 0;
	cx->thread_spawn = (flags & CX_SPAWN) != 0;
	cx->subagent = (flags & CX_SUBAGENT) != 0;
	for (int i = 0; i < CODEX_TOTAL_MAX; i++) {
		cx->prev[i] = blob_get64(r);
	}
	cx->start_ms = (int64_t)blob_get64(r);
	blob_get_str(r, cx->model, sizeof(cx->model));
	blob_get_str(r, cx->session, sizeof(cx->session));
	blob_get_str(r, cx->label, sizeof(cx->label));
	if (flags & CX_TIER_CW) {
		cx->prev_cache_write = blob_get64(r);
		uint32_t tier = blob_get32(r);
		cx->tier = tier < CODEX_TIER_MAX ? (uint8_t)tier : CODEX_TIER_STANDARD;
	} else {
		cx->cw_unknown = cx->has_prev;
	}
}

/* auth.json with an OPENAI_API_KEY is the API, with ChatGPT tokens a subscription. */
static enum event_billing
codex_billing(const char *home, const struct owned *o)
{
	struct json_doc doc;
	char path[4200], *buf;
	enum event_billing mode = EVENT_BILLING_UNKNOWN;

	json_doc_init(&doc);
	snprintf(path, sizeof(path), "%s/auth.json", home);
	if ((buf = origin_load_json(path, o, &doc)) != NULL) {
		if (json_type(&doc, json_get(&doc, 0, "OPENAI_API_KEY")) == JSON_STRING) {
			mode = EVENT_BILLING_API;
		} else if (json_type(&doc, json_get(&doc, 0, "tokens")) == JSON_OBJECT) {
			mode = EVENT_BILLING_SUBSCRIPTION;
		}
		free(buf);
	}
	json_doc_finish(&doc);
	return mode;
}

const struct source_ops source_codex = {
	.tool = EVENT_TOOL_CODEX,
	.name = "codex",
	.key = "codex",
	.dir_help = "a CODEX_HOME",
	.env = "CODEX_HOME",
	.watch_dir = "sessions",
	.home_dir = ".codex",
	.walk = codex_walk,
	.wanted = codex_wanted,
	.prefilter = codex_prefilter,
	.read_line = codex_read_line,
	.dedup_key = codex_key,
	.cursor_encode = codex_cursor_encode,
	.cursor_decode = codex_cursor_decode,
	.billing = codex_billing,
	.account = NULL,
};
