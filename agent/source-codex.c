/* source-codex.c: one Codex rollout line; see source-codex.h. */
#define _GNU_SOURCE /* memmem */
#include "source-codex.h"

#include <string.h>

#include "event_id.h"
#include "ledger.h"

bool
codex_line_wanted(const char *line, size_t len)
{
	return memmem(line, len, "\"token_count\"", 13) != NULL ||
	       memmem(line, len, "\"turn_context\"", 14) != NULL ||
	       memmem(line, len, "\"session_meta\"", 14) != NULL;
}

static void
opt_str(const struct json_doc *d, int t, char *buf, size_t size)
{
	if (json_str(d, t, buf, size) < 0) {
		buf[0] = '\0';
	}
}

/* Read a TokenUsage object. Returns 1 when present, 0 when absent or null, -1 when bad. */
static int
usage(const struct json_doc *d, int t, uint64_t ret[CODEX_TOTAL_MAX])
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
	if (json_is_null(d, json_get(d, t, "total_tokens"))) {
		ret[CODEX_TOTAL] = ret[CODEX_IN] + ret[CODEX_OUT]; /* never adds reasoning */
	}
	return 1;
}

static void
to_buckets(const uint64_t d[CODEX_TOTAL_MAX], uint64_t tok[EVENT_BUCKET_MAX])
{
	uint64_t cached = d[CODEX_CACHED] < d[CODEX_IN] ? d[CODEX_CACHED] : d[CODEX_IN];

	memset(tok, 0, EVENT_BUCKET_MAX * sizeof(tok[0]));
	tok[EVENT_INPUT] = d[CODEX_IN] - cached;
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
	int has_total, has_last;
	bool advanced = false, backwards = false;

	if (json_is_null(d, info)) {
		return CODEX_LINE_INFO_NULL;
	}
	if (json_type(d, info) != JSON_OBJECT) {
		return CODEX_LINE_BAD;
	}
	has_total = usage(d, json_get(d, info, "total_token_usage"), total);
	has_last = usage(d, json_get(d, info, "last_token_usage"), last);
	if (has_total < 0 || has_last < 0 || (has_total == 0 && has_last == 0)) {
		return CODEX_LINE_BAD;
	}
	if (has_total == 0) {
		/* No cumulative totals: the per-call usage is all there is. */
		memcpy(delta, last, sizeof(delta));
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
			} else {
				memcpy(delta, last, sizeof(delta));
			}
		} else {
			for (int i = 0; i < CODEX_TOTAL_MAX; i++) {
				delta[i] = total[i] - (f->has_prev ? f->prev[i] : 0);
			}
		}
		memcpy(f->prev, total, sizeof(f->prev));
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
	to_buckets(delta, o->tok);
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
		if (json_type(doc, s) == JSON_OBJECT) {
			int sub = json_get(doc, s, "subagent");
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
	if (!json_str_eq(doc, t, "event_msg") ||
	    !json_str_eq(doc, json_get(doc, payload, "type"), "token_count")) {
		return CODEX_LINE_OTHER;
	}
	if (ts[0] == '\0') {
		return CODEX_LINE_BAD;
	}
	return token_count(doc, payload, ts, ts_ms, f, ret_obs);
}
