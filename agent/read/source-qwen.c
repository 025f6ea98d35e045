/* source-qwen.c: the Qwen Code source; see source-qwen.h. */
#define _GNU_SOURCE /* memmem */
#include "source-qwen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "project.h"
#include "scan.h"
#include "source-gemini.h"

#define API_RESPONSE "qwen-code.api_response"

bool
qwen_line_wanted(const char *line, size_t len)
{
	return memmem(line, len, "\"" API_RESPONSE "\"", sizeof(API_RESPONSE) + 1) != NULL;
}

enum { P, C, K, T, TT, N_COUNTS };

/* The api_response counts as buckets: 1, 0 when all zero, -1 when bad. */
static int
counts(const struct json_doc *d, int ev, uint64_t tok[EVENT_BUCKET_MAX])
{
	static const char *const names[N_COUNTS] = {
		"input_token_count", "output_token_count", "cached_content_token_count",
		"thoughts_token_count", "total_token_count",
	};
	uint64_t v[N_COUNTS] = {0};
	uint64_t out;

	for (int i = 0; i < N_COUNTS; i++) {
		if (json_u64(d, json_get(d, ev, names[i]), &v[i]) < 0) {
			return -1;
		}
	}
	/* prompt includes the cached tokens; the candidates include the reasoning
	 * unless the total says the thoughts were outside them (Gemini-native) */
	out = v[T] > 0 && v[TT] == v[P] + v[C] + v[T] ? v[C] + v[T] : v[C];
	memset(tok, 0, EVENT_BUCKET_MAX * sizeof(tok[0]));
	tok[EVENT_INPUT] = v[P] > v[K] ? v[P] - v[K] : 0;
	tok[EVENT_CACHE_READ] = v[K];
	tok[EVENT_OUTPUT] = out;
	tok[EVENT_REASONING] = v[T] < out ? v[T] : out;
	/* a call whose counts are all zero is not an event (specs/more-tools.md) */
	return tok[EVENT_INPUT] + tok[EVENT_CACHE_READ] + out > 0 ? 1 : 0;
}

enum qwen_line
qwen_line_parse(struct json_doc *doc, const char *line, size_t len, struct qwen_obs *o)
{
	char ts[64];
	int ev, r;

	if (json_parse(doc, line, len) < 0) {
		return QWEN_LINE_INVALID;
	}
	ev = json_path(doc, 0, "systemPayload", "uiEvent", NULL);
	if (!json_str_eq(doc, json_get(doc, 0, "type"), "system") ||
	    !json_str_eq(doc, json_get(doc, 0, "subtype"), "ui_telemetry") ||
	    !json_str_eq(doc, json_get(doc, ev, "event.name"), API_RESPONSE)) {
		return QWEN_LINE_OTHER;
	}
	if (json_str(doc, json_get(doc, 0, "uuid"), o->key, sizeof(o->key)) <= 0 ||
	    (r = counts(doc, ev, o->tok)) < 0) {
		return QWEN_LINE_BAD;
	}
	if (r == 0) {
		return QWEN_LINE_OTHER;
	}
	if ((json_str(doc, json_get(doc, 0, "timestamp"), ts, sizeof(ts)) < 0 ||
	     event_ts_parse(ts, &o->ts_ms) < 0) &&
	    (json_str(doc, json_get(doc, ev, "event.timestamp"), ts, sizeof(ts)) < 0 ||
	     event_ts_parse(ts, &o->ts_ms) < 0)) {
		return QWEN_LINE_BAD;
	}
	if (json_str(doc, json_get(doc, ev, "model"), o->model, sizeof(o->model)) <= 0) {
		snprintf(o->model, sizeof(o->model), "unknown");
	}
	/* a /branch copy names the session that made (and paid for) the call */
	if (json_str(doc, json_path(doc, 0, "forkedFrom", "sessionId", NULL), o->session,
		     sizeof(o->session)) <= 0 &&
	    json_str(doc, json_get(doc, 0, "sessionId"), o->session, sizeof(o->session)) < 0) {
		o->session[0] = '\0';
	}
	if (json_str(doc, json_get(doc, 0, "cwd"), o->cwd, sizeof(o->cwd)) < 0) {
		o->cwd[0] = '\0';
	}
	return QWEN_LINE_USAGE;
}

/* ---- the source ---- */

/* Sessions are projects/<project>/chats/<sessionId>.jsonl, Gemini CLI's layout. */
static void
qwen_walk(struct scan *s, const struct scan_root *root, scan_file_cb *cb, void *ctx)
{
	gemini_walk_chats(s, root, "projects", cb, ctx);
}

static bool
qwen_wanted(const char *name)
{
	return scan_name_ends(name, ".jsonl");
}

static const struct scan_skip skips[QWEN_LINE_MAX] = {
	[QWEN_LINE_INVALID] = {true, SCAN_INVALID_JSON, "invalid JSON line"},
	[QWEN_LINE_BAD] = {true, SCAN_BAD_LINES, "api_response record with bad fields"},
};

static void
qwen_read_line(struct scan *s, const struct source_file *file, const char *line, size_t len,
	       uint64_t off, struct scan_cursor *cur)
{
	struct qwen_obs o;
	struct source_rec rec;
	enum qwen_line kind = qwen_line_parse(&s->doc, line, len, &o);

	if (kind != QWEN_LINE_USAGE) {
		scan_skip(s, file, off, &skips[kind]);
		return;
	}
	source_rec_usage(&rec, o.ts_ms, o.tok, o.model);
	rec.session = o.session;
	rec.project = project_label(s->project, NULL, o.cwd, file->owned);
	rec.final = true; /* written once, after the call ended */
	rec.key_src = o.key;
	(void)scan_record(s, EVENT_TOOL_QWEN, file, off, cur, &rec);
}

/* settings.json security.auth.selectedType: qwen-oauth is the free tier, openai an API key. */
static enum event_billing
qwen_billing(const char *root, const struct owned *o)
{
	static const struct gemini_auth modes[] = {
		{"qwen-oauth", EVENT_BILLING_SUBSCRIPTION},
		{"openai", EVENT_BILLING_API},
	};

	return gemini_auth_billing(root, o, modes, sizeof(modes) / sizeof(modes[0]));
}

const struct source_ops source_qwen = {
	.tool = EVENT_TOOL_QWEN,
	.name = "qwen-code",
	.key = "qwen",
	.dir_help = "a Qwen Code data dir (~/.qwen, holds projects/)",
	.env = NULL,
	.watch_dir = "projects",
	.home_dir = ".qwen",
	.walk = qwen_walk,
	.wanted = qwen_wanted,
	.prefilter = qwen_line_wanted,
	.read_line = qwen_read_line,
	.dedup_key = gemini_string_key,
	.cursor_encode = NULL,
	.cursor_decode = NULL,
	.billing = qwen_billing,
	.account = NULL,
};
