/* source-copilot.c: the GitHub Copilot CLI source; see source-copilot.h. */
#define _GNU_SOURCE /* memmem */
#include "source-copilot.h"

#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "project.h"
#include "scan.h"

#define NEEDLE_USAGE "\"session.usage_record\""
#define NEEDLE_START "\"session.start\""
#define NEEDLE_RESUME "\"session.resume\""

bool
copilot_line_wanted(const char *line, size_t len)
{
	return memmem(line, len, NEEDLE_USAGE, sizeof(NEEDLE_USAGE) - 1) != NULL ||
	       memmem(line, len, NEEDLE_START, sizeof(NEEDLE_START) - 1) != NULL ||
	       memmem(line, len, NEEDLE_RESUME, sizeof(NEEDLE_RESUME) - 1) != NULL;
}

enum { R_TYPE, R_DATA, R_ID, R_TIMESTAMP, R_AGENT, R_MAX };
static const char *const root_keys[R_MAX] = {"type", "data", "id", "timestamp", "agentId"};
enum { U_MODEL, U_IN, U_OUT, U_READ, U_WRITE, U_REASONING, U_BYOK, U_CALL, U_ACCOUNTING, U_MAX };
static const char *const usage_keys[U_MAX] = {
	"model", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens",
	"reasoningTokens", "isByok", "apiCallId", "accounting",
};

/* session.start / session.resume: the session id and the working directory. */
static enum copilot_line
meta(const struct json_doc *d, int data, struct copilot_obs *o)
{
	/* absent, null, not a string or too long: "" (set by the caller) */
	(void)json_str(d, json_get(d, data, "sessionId"), o->session, sizeof(o->session));
	(void)json_str(d, json_path(d, data, "context", "cwd", NULL), o->cwd, sizeof(o->cwd));
	return COPILOT_LINE_META;
}

/* The dedup key: the API's response id, else the record's own id within its session. */
static enum copilot_line
usage_key(const struct json_doc *d, const int u[U_MAX], int rec_id, const char *session,
	  struct copilot_obs *o)
{
	char id[200];
	int n;

	if (json_str(d, json_get(d, u[U_ACCOUNTING], "usageId"), id, sizeof(id)) > 0 ||
	    json_str(d, u[U_CALL], id, sizeof(id)) > 0) {
		n = snprintf(o->key, sizeof(o->key), "call/%s", id);
	} else if (json_str(d, rec_id, id, sizeof(id)) > 0 && session[0] != '\0') {
		n = snprintf(o->key, sizeof(o->key), "record/%s/%s", session, id);
	} else {
		return COPILOT_LINE_BAD; /* nothing to tell a copy from another call */
	}
	return n > 0 && (size_t)n < sizeof(o->key) ? COPILOT_LINE_USAGE : COPILOT_LINE_BAD;
}

enum copilot_line
copilot_line_parse(struct json_doc *doc, const char *line, size_t len, const char *session,
		   struct copilot_obs *ret_obs)
{
	struct copilot_obs *o = ret_obs;
	int root[R_MAX], u[U_MAX];
	uint64_t in = 0, out = 0, rd = 0, wr = 0, reasoning = 0;
	char ts[64];

	o->session[0] = '\0';
	o->cwd[0] = '\0';
	if (json_parse(doc, line, len) < 0) {
		return COPILOT_LINE_INVALID;
	}
	if (json_type(doc, 0) != JSON_OBJECT) {
		return COPILOT_LINE_OTHER;
	}
	json_get_many(doc, 0, root_keys, R_MAX, root);
	if (json_type(doc, root[R_DATA]) != JSON_OBJECT) {
		return COPILOT_LINE_OTHER;
	}
	if (json_str_eq(doc, root[R_TYPE], "session.start") ||
	    json_str_eq(doc, root[R_TYPE], "session.resume")) {
		return meta(doc, root[R_DATA], o);
	}
	if (!json_str_eq(doc, root[R_TYPE], "session.usage_record")) {
		return COPILOT_LINE_OTHER;
	}
	int usage = json_get(doc, root[R_DATA], "usage");
	if (json_type(doc, usage) != JSON_OBJECT) {
		return json_is_null(doc, usage) ? COPILOT_LINE_ZERO : COPILOT_LINE_BAD;
	}
	json_get_many(doc, usage, usage_keys, U_MAX, u);
	if (json_str(doc, root[R_TIMESTAMP], ts, sizeof(ts)) < 0 ||
	    event_ts_parse(ts, &o->ts_ms) < 0) {
		return COPILOT_LINE_BAD;
	}
	/* JSON null is absent: a counter that is null counts 0 */
	if (json_u64(doc, u[U_IN], &in) < 0 || json_u64(doc, u[U_OUT], &out) < 0 ||
	    json_u64(doc, u[U_READ], &rd) < 0 || json_u64(doc, u[U_WRITE], &wr) < 0 ||
	    json_u64(doc, u[U_REASONING], &reasoning) < 0) {
		return COPILOT_LINE_BAD;
	}
	if (in > LEDGER_TOK_MAX || out > LEDGER_TOK_MAX || rd > LEDGER_TOK_MAX ||
	    wr > LEDGER_TOK_MAX || reasoning > LEDGER_TOK_MAX) {
		return COPILOT_LINE_BAD; /* no call is that large */
	}
	memset(o->tok, 0, sizeof(o->tok));
	/* inputTokens holds the cache reads and writes: the rest is uncached */
	o->tok[EVENT_INPUT] = in > rd + wr ? in - rd - wr : 0;
	o->tok[EVENT_CACHE_READ] = rd;
	o->tok[EVENT_CACHE_WRITE_5M] = wr;
	o->tok[EVENT_OUTPUT] = out;
	o->tok[EVENT_REASONING] = reasoning < out ? reasoning : out;
	if (o->tok[EVENT_INPUT] == 0 && rd == 0 && wr == 0 && out == 0) {
		return COPILOT_LINE_ZERO;
	}
	if (json_str(doc, u[U_MODEL], o->model, sizeof(o->model)) < 0) {
		o->model[0] = '\0';
	}
	o->sub_agent = json_type(doc, root[R_AGENT]) == JSON_STRING;
	o->byok = json_is_true(doc, u[U_BYOK])	     ? COPILOT_BYOK_YES
		  : json_is_null(doc, u[U_BYOK]) ? COPILOT_BYOK_ABSENT
						 : COPILOT_BYOK_NO;
	return usage_key(doc, u, root[R_ID], session, o);
}

/* ---- the source ---- */

/* Per-file state: what session.start said, kept across reads (the label stands in for cwd). */
struct copilot_file {
	char session[80];
	char label[PROJECT_LABEL_MAX];
};

_Static_assert(sizeof(struct copilot_file) <= SCAN_CURSOR_STATE, "copilot state fits a cursor");

static struct copilot_file *
state_of(struct scan_cursor *cur)
{
	return (struct copilot_file *)(void *)cur->state;
}

static void
copilot_walk(struct scan *s, const struct scan_root *root, scan_file_cb *cb, void *ctx)
{
	scan_walk_dir(s, root, root->path, "session-state", cb, ctx);
}

static bool
copilot_wanted(const char *name)
{
	return strcmp(name, "events.jsonl") == 0;
}

/* The session of a file before its session.start is read: its directory's name. */
static void
session_from_path(const char *rel, char *ret, size_t size)
{
	const char *end = strrchr(rel, '/');
	const char *b = end;

	ret[0] = '\0';
	if (end == NULL) {
		return;
	}
	while (b > rel && b[-1] != '/') {
		b--;
	}
	snprintf(ret, size, "%.*s", (int)(end - b), b);
}

static const struct scan_skip skips[COPILOT_LINE_MAX] = {
	[COPILOT_LINE_INVALID] = {true, SCAN_INVALID_JSON, "invalid JSON line"},
	[COPILOT_LINE_BAD] = {true, SCAN_BAD_LINES, "usage record with a bad timestamp or counter"},
};

/*
 * The origin of a record: the root's, or its twin with the billing the
 * record names (a BYOK call is the user's own API key).
 */
static uint16_t
record_origin(struct scan *s, uint16_t origin, enum copilot_byok byok)
{
	enum event_billing want = byok == COPILOT_BYOK_YES  ? EVENT_BILLING_API
				  : byok == COPILOT_BYOK_NO ? EVENT_BILLING_SUBSCRIPTION
							    : s->origins[origin].billing;
	int o;

	if (want == s->origins[origin].billing) {
		return origin;
	}
	o = scan_add_origin(s, s->origins[origin].user, want);
	return o >= 0 ? (uint16_t)o : origin;
}

static void
copilot_read_line(struct scan *s, const struct source_file *file, const char *line, size_t len,
		  uint64_t off, struct scan_cursor *cur)
{
	struct copilot_file *cf = state_of(cur);
	struct copilot_obs o; /* 4.5 KB, on a shallow stack */
	struct source_file f = *file;
	struct source_rec rec;

	if (cf->session[0] == '\0') {
		session_from_path(file->rel, cf->session, sizeof(cf->session));
	}
	enum copilot_line kind = copilot_line_parse(&s->doc, line, len, cf->session, &o);
	if (kind == COPILOT_LINE_META) {
		if (o.session[0] != '\0') {
			memcpy(cf->session, o.session, sizeof(cf->session));
		}
		if (o.cwd[0] != '\0') {
			snprintf(cf->label, sizeof(cf->label), "%s",
				 project_label(s->project, NULL, o.cwd, file->owned));
		}
		return;
	}
	if (kind != COPILOT_LINE_USAGE) {
		scan_skip(s, file, off, &skips[kind]);
		return;
	}
	source_rec_usage(&rec, o.ts_ms, o.tok, o.model);
	rec.session = cf->session; /* a sub-agent's calls belong to its parent's session */
	rec.project = cf->label;
	rec.final = true; /* written once, when the call has ended */
	rec.key_src = o.key;
	f.origin = record_origin(s, file->origin, o.byok);
	(void)scan_record(s, EVENT_TOOL_COPILOT, &f, off, cur, &rec);
}

static void
copilot_cursor_encode(const struct scan_cursor *cur, struct blob_w *b)
{
	const struct copilot_file *cf = (const struct copilot_file *)(const void *)cur->state;

	blob_put_str(b, cf->session);
	blob_put_str(b, cf->label);
}

static void
copilot_cursor_decode(struct scan_cursor *cur, struct blob_r *r)
{
	struct copilot_file *cf = state_of(cur);

	memset(cf, 0, sizeof(*cf));
	blob_get_str(r, cf->session, sizeof(cf->session));
	blob_get_str(r, cf->label, sizeof(cf->label));
}

/*
 * GitHub-hosted models are paid by the Copilot plan (premium requests); a
 * record says when a call used the user's own key instead (isByok).
 */
static enum event_billing
copilot_billing(const char *root, const struct owned *o)
{
	(void)root;
	(void)o;
	return EVENT_BILLING_SUBSCRIPTION;
}

const struct source_ops source_copilot = {
	.tool = EVENT_TOOL_COPILOT,
	.name = "copilot-cli",
	.key = "copilot",
	.dir_help = "a COPILOT_HOME (holds session-state/)",
	.env = "COPILOT_HOME",
	.watch_dir = "session-state",
	.home_dir = ".copilot",
	.walk = copilot_walk,
	.wanted = copilot_wanted,
	.prefilter = copilot_line_wanted,
	.read_line = copilot_read_line,
	.dedup_key = source_string_key,
	.cursor_encode = copilot_cursor_encode,
	.cursor_decode = copilot_cursor_decode,
	.billing = copilot_billing,
	.account = NULL,
};
