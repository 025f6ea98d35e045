/* source-amp.c: the Amp source; see source-amp.h. */
#define _GNU_SOURCE /* memmem */
#include "source-amp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "scan.h"

/* A time: an RFC 3339 string, or milliseconds since the epoch. 0 or -1. */
static int
time_of(const struct json_doc *d, int t, int64_t *ret_ms)
{
	char ts[64];
	uint64_t ms;

	if (json_str(d, t, ts, sizeof(ts)) >= 0) {
		return event_ts_parse(ts, ret_ms) < 0 ? -1 : 0;
	}
	if (json_u64(d, t, &ms) > 0 && ms < (uint64_t)EVENT_TS_MAX_MS) {
		*ret_ms = (int64_t)ms;
		return 0;
	}
	return -1;
}

/* An optional counter: null or absent is 0; anything else but a count that fits is bad. */
static int
counter(const struct json_doc *d, int t, uint64_t *v)
{
	*v = 0;
	return json_u64(d, t, v) < 0 || *v > LEDGER_TOK_MAX ? -1 : 0;
}

enum { U_IN, U_OUT, U_WRITE, U_READ, U_TOTAL, U_MODEL, U_TS, U_MAX };
static const char *const usage_keys[U_MAX] = {
	"inputTokens", "outputTokens", "cacheCreationInputTokens", "cacheReadInputTokens",
	"totalTokens", "model", "timestamp",
};

/* A message's usage into o->tok: 1 usage, 0 none (null, absent, all zero), -1 bad. */
static int
message_usage(const struct json_doc *d, int usage, int u[U_MAX], struct amp_obs *o)
{
	uint64_t total = 0;
	bool split = false;

	memset(o->tok, 0, sizeof(o->tok));
	if (json_is_null(d, usage)) {
		return 0;
	}
	if (json_type(d, usage) != JSON_OBJECT) {
		return -1;
	}
	json_get_many(d, usage, usage_keys, U_MAX, u);
	for (int k = U_IN; k <= U_READ; k++) {
		split = split || !json_is_null(d, u[k]);
	}
	if (counter(d, u[U_IN], &o->tok[EVENT_INPUT]) < 0 ||
	    counter(d, u[U_OUT], &o->tok[EVENT_OUTPUT]) < 0 ||
	    counter(d, u[U_WRITE], &o->tok[EVENT_CACHE_WRITE_5M]) < 0 ||
	    counter(d, u[U_READ], &o->tok[EVENT_CACHE_READ]) < 0 || counter(d, u[U_TOTAL], &total) < 0) {
		return -1;
	}
	if (!split) {
		o->tok[EVENT_OUTPUT] = total; /* only a total: output, as ccusage counts it */
	}
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		if (o->tok[b] != 0) {
			return 1;
		}
	}
	return 0;
}

/* The message of messages whose messageId is id, or -1. */
static int
message_by_id(const struct json_doc *d, int messages, uint64_t id)
{
	for (int m = json_next(d, messages, -1); m >= 0; m = json_next(d, messages, m)) {
		uint64_t v;
		if (json_u64(d, json_get(d, m, "messageId"), &v) > 0 && v == id) {
			return m;
		}
	}
	return -1;
}

enum { E_ID, E_TS, E_MODEL, E_TOKENS, E_TO, E_MAX };
static const char *const ledger_keys[E_MAX] = {"id", "timestamp", "model", "tokens", "toMessageId"};

/* One event per ledger event; cache counts from the message it ends at. */
static void
ledger_events(const struct json_doc *d, int events, int messages, struct amp_obs *o,
	      amp_emit *emit, void *ctx)
{
	for (int ev = json_next(d, events, -1); ev >= 0; ev = json_next(d, events, ev)) {
		int e[E_MAX], u[U_MAX];
		char id[96];
		uint64_t to = 0;
		struct amp_obs cache;
		json_get_many(d, ev, ledger_keys, E_MAX, e);
		if (json_str(d, e[E_ID], id, sizeof(id)) <= 0 || time_of(d, e[E_TS], &o->ts_ms) < 0 ||
		    counter(d, json_get(d, e[E_TOKENS], "input"), &o->tok[EVENT_INPUT]) < 0 ||
		    counter(d, json_get(d, e[E_TOKENS], "output"), &o->tok[EVENT_OUTPUT]) < 0 ||
		    json_u64(d, e[E_TO], &to) < 0) {
			emit(ctx, NULL);
			continue;
		}
		memset(&o->tok[EVENT_CACHE_WRITE_5M], 0,
		       sizeof(o->tok) - EVENT_CACHE_WRITE_5M * sizeof(o->tok[0]));
		int m = message_by_id(d, messages, to);
		if (m >= 0 && message_usage(d, json_get(d, m, "usage"), u, &cache) > 0) {
			o->tok[EVENT_CACHE_WRITE_5M] = cache.tok[EVENT_CACHE_WRITE_5M];
			o->tok[EVENT_CACHE_READ] = cache.tok[EVENT_CACHE_READ];
		}
		if (o->tok[EVENT_INPUT] == 0 && o->tok[EVENT_OUTPUT] == 0 &&
		    o->tok[EVENT_CACHE_WRITE_5M] == 0 && o->tok[EVENT_CACHE_READ] == 0) {
			continue; /* all zero: not an event */
		}
		if (json_str(d, e[E_MODEL], o->model, sizeof(o->model)) < 0) {
			o->model[0] = '\0';
		}
		o->final = true; /* what Amp billed */
		snprintf(o->key, sizeof(o->key), "%s/ledger/%s", o->thread, id);
		emit(ctx, o);
	}
}

/* One event per assistant message with usage. */
static void
message_events(const struct json_doc *d, int messages, struct amp_obs *o, amp_emit *emit,
	       void *ctx)
{
	for (int m = json_next(d, messages, -1); m >= 0; m = json_next(d, messages, m)) {
		int u[U_MAX];
		uint64_t id;
		if (!json_str_eq(d, json_get(d, m, "role"), "assistant")) {
			continue;
		}
		int r = message_usage(d, json_get(d, m, "usage"), u, o);
		if (r == 0) {
			continue; /* cancelled (null) or all zero */
		}
		if (r < 0 || json_u64(d, json_get(d, m, "messageId"), &id) <= 0 ||
		    (time_of(d, u[U_TS], &o->ts_ms) < 0 &&
		     time_of(d, json_get(d, m, "timestamp"), &o->ts_ms) < 0)) {
			emit(ctx, NULL);
			continue;
		}
		if (json_str(d, u[U_MODEL], o->model, sizeof(o->model)) < 0) {
			o->model[0] = '\0';
		}
		int state = json_get(d, json_get(d, m, "state"), "type");
		o->final = state < 0 || json_str_eq(d, state, "complete");
		snprintf(o->key, sizeof(o->key), "%s/message/%" PRIu64, o->thread, id);
		emit(ctx, o);
	}
}

enum amp_doc
amp_doc_parse(struct json_doc *doc, const char *buf, size_t len, amp_emit *emit, void *ctx)
{
	struct amp_obs o;
	int messages, events;

	if (json_parse(doc, buf, len) < 0) {
		return AMP_DOC_INVALID;
	}
	memset(&o, 0, sizeof(o));
	if (json_str(doc, json_get(doc, 0, "id"), o.thread, sizeof(o.thread)) <= 0) {
		return AMP_DOC_OTHER;
	}
	messages = json_get(doc, 0, "messages");
	events = json_path(doc, 0, "usageLedger", "events", NULL);
	if (json_type(doc, events) == JSON_ARRAY) {
		ledger_events(doc, events, messages, &o, emit, ctx);
	} else {
		message_events(doc, messages, &o, emit, ctx);
	}
	return AMP_DOC_THREAD;
}

/* ---- the source ---- */

static void
amp_walk(struct scan *s, const struct scan_root *root, scan_file_cb *cb, void *ctx)
{
	scan_walk_dir(s, root, root->path, "threads", cb, ctx);
}

static bool
amp_wanted(const char *name)
{
	return scan_name_ends(name, ".json");
}

static bool
amp_prefilter(const char *doc, size_t len)
{
	return memmem(doc, len, "\"messages\"", 10) != NULL;
}

struct amp_read {
	struct scan *s;
	const struct source_file *file;
	struct scan_cursor *cur;
};

static const struct scan_skip skip_invalid = {true, SCAN_INVALID_JSON,
					      "thread that does not parse (half written?)"};
static const struct scan_skip skip_bad = {true, SCAN_BAD_LINES, "usage with a bad time or counter"};

static void
amp_record(void *ctx, const struct amp_obs *o)
{
	struct amp_read *a = ctx;
	struct source_rec rec;

	if (o == NULL) {
		scan_skip(a->s, a->file, 0, &skip_bad);
		return;
	}
	memset(&rec, 0, sizeof(rec));
	rec.ts_ms = o->ts_ms;
	memcpy(rec.tok, o->tok, sizeof(rec.tok));
	rec.model = o->model;
	rec.session = o->thread;
	rec.project = "";
	rec.final = o->final;
	rec.key_src = o->key;
	(void)scan_record(a->s, EVENT_TOOL_AMP, a->file, 0, a->cur, &rec);
}

static void
amp_read_doc(struct scan *s, const struct source_file *file, const char *doc, size_t len,
	     uint64_t off, struct scan_cursor *cur)
{
	struct amp_read a = {s, file, cur};

	if (amp_doc_parse(&s->doc, doc, len, amp_record, &a) == AMP_DOC_INVALID) {
		scan_skip(s, file, off, &skip_invalid);
	}
}

/* Amp's server holds the provider keys and bills in Amp credits: pay as you go. */
static enum event_billing
amp_billing(const char *root, const struct owned *o)
{
	(void)root;
	(void)o;
	return EVENT_BILLING_API;
}

const struct source_ops source_amp = {
	.tool = EVENT_TOOL_AMP,
	.name = "amp",
	.key = "amp",
	.dir_help = "an Amp data directory (holds threads/)",
	.env = "AMP_DATA_DIR",
	.watch_dir = "threads",
	.home_dir = ".local/share/amp",
	.walk = amp_walk,
	.wanted = amp_wanted,
	.whole_file = true,
	.prefilter = amp_prefilter,
	.read_line = amp_read_doc,
	.dedup_key = source_string_key,
	.cursor_encode = NULL,
	.cursor_decode = NULL,
	.billing = amp_billing,
	.account = NULL,
};
