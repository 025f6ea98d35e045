/* source-claude.c: the Claude Code source; see source-claude.h. */
#include "source-claude.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action-read.h"
#include "ledger.h"
#include "lines.h"
#include "origin.h"
#include "project.h"
#include "scan.h"

/* Read an optional counter; null or absent leaves *v at 0. */
static int
counter(const struct json_doc *d, int t, uint64_t *v)
{
	uint64_t x = 0;
	int r = json_u64(d, t, &x);

	if (r < 0) {
		return r;
	}
	*v = r > 0 ? x : 0;
	return 0;
}

/* An optional short string: absent, null, wrong type or too long gives "". */
static void
opt_str(const struct json_doc *d, int t, char *buf, size_t size)
{
	if (json_str(d, t, buf, size) < 0) {
		buf[0] = '\0';
	}
}

static const char *const root_keys[CLAUDE_R_MAX] = {
	"type",        "message",   "isApiErrorMessage", "uuid",          "sessionId",
	"cwd",         "isSidechain", "timestamp",       "toolUseResult", "toolDenialKind",
	"requestId",
};
enum { M_USAGE, M_MODEL, M_ID, M_CONTENT, M_MAX };
static const char *const message_keys[M_MAX] = {"usage", "model", "id", "content"};
enum { U_SPEED, U_TIER, U_CC, U_IN, U_OUT, U_READ, U_WRITE, U_SERVER, U_MAX };
static const char *const usage_keys[U_MAX] = {
	"speed", "service_tier", "cache_creation", "input_tokens", "output_tokens",
	"cache_read_input_tokens", "cache_creation_input_tokens", "server_tool_use",
};
enum { C_5M, C_1H, C_MAX };
static const char *const split_keys[C_MAX] = {"ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"};

enum claude_line
claude_line_parse(struct json_doc *doc, const char *line, size_t len, struct claude_obs *ret_obs)
{
	struct claude_obs *o = ret_obs;
	int *root = o->root, m[M_MAX], u[U_MAX], cc[C_MAX], t;
	uint64_t cache_creation = 0, c5 = 0, c1 = 0;
	bool has_split;
	char ts[64];

	if (json_parse(doc, line, len) < 0) {
		return CLAUDE_LINE_INVALID;
	}
	/* one walk per object over the members, for all the keys it (and the action reader) needs */
	json_get_many(doc, 0, root_keys, CLAUDE_R_MAX, root);
	o->assistant = json_str_eq(doc, root[CLAUDE_R_TYPE], "assistant");
	o->user = !o->assistant && json_str_eq(doc, root[CLAUDE_R_TYPE], "user");
	o->message_tok = root[CLAUDE_R_MESSAGE];
	o->content_tok = -1;
	if (json_type(doc, 0) != JSON_OBJECT || !o->assistant) {
		return CLAUDE_LINE_OTHER;
	}
	json_get_many(doc, root[CLAUDE_R_MESSAGE], message_keys, M_MAX, m);
	o->content_tok = m[M_CONTENT];
	if (json_type(doc, m[M_USAGE]) != JSON_OBJECT) {
		return CLAUDE_LINE_OTHER;
	}
	json_get_many(doc, m[M_USAGE], usage_keys, U_MAX, u);
	/* every field is set below; cwd alone is 4 KB, so no memset */
	o->has_message_id = false;
	o->message_id[0] = '\0';
	memset(o->tok, 0, sizeof(o->tok));
	opt_str(doc, m[M_MODEL], o->model, sizeof(o->model));
	if (strcmp(o->model, "<synthetic>") == 0) {
		return CLAUDE_LINE_SYNTHETIC;
	}
	if (json_is_true(doc, root[CLAUDE_R_API_ERROR])) {
		return CLAUDE_LINE_API_ERROR;
	}
	/* JSON null is absent; an empty string is a value. */
	t = m[M_ID];
	if (json_str(doc, t, o->message_id, sizeof(o->message_id)) >= 0) {
		o->has_message_id = true;
	} else if (!json_is_null(doc, t)) {
		return CLAUDE_LINE_BAD;
	}
	opt_str(doc, root[CLAUDE_R_UUID], o->uuid, sizeof(o->uuid));
	opt_str(doc, root[CLAUDE_R_SESSION], o->session, sizeof(o->session));
	opt_str(doc, root[CLAUDE_R_CWD], o->cwd, sizeof(o->cwd));
	opt_str(doc, u[U_SPEED], o->speed, sizeof(o->speed));
	opt_str(doc, u[U_TIER], o->tier, sizeof(o->tier));
	opt_str(doc, root[CLAUDE_R_REQUEST_ID], o->request_id, sizeof(o->request_id));
	o->sidechain = json_is_true(doc, root[CLAUDE_R_SIDECHAIN]);
	if (json_str(doc, root[CLAUDE_R_TIMESTAMP], ts, sizeof(ts)) < 0 ||
	    event_ts_parse(ts, &o->ts_ms) < 0) {
		return CLAUDE_LINE_BAD;
	}
	has_split = json_type(doc, u[U_CC]) == JSON_OBJECT;
	json_get_many(doc, u[U_CC], split_keys, C_MAX, cc);
	if (counter(doc, u[U_IN], &o->tok[EVENT_INPUT]) < 0 ||
	    counter(doc, u[U_OUT], &o->tok[EVENT_OUTPUT]) < 0 ||
	    counter(doc, u[U_READ], &o->tok[EVENT_CACHE_READ]) < 0 ||
	    counter(doc, u[U_WRITE], &cache_creation) < 0 || counter(doc, cc[C_5M], &c5) < 0 ||
	    counter(doc, cc[C_1H], &c1) < 0 ||
	    counter(doc, json_get(doc, u[U_SERVER], "web_search_requests"),
		    &o->tok[EVENT_WEB_SEARCH]) < 0) {
		return CLAUDE_LINE_BAD;
	}
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		if (o->tok[b] > LEDGER_TOK_MAX) {
			return CLAUDE_LINE_BAD; /* no response is that large */
		}
	}
	if (cache_creation > LEDGER_TOK_MAX || c5 > LEDGER_TOK_MAX || c1 > LEDGER_TOK_MAX) {
		return CLAUDE_LINE_BAD;
	}
	if (has_split) {
		o->tok[EVENT_CACHE_WRITE_5M] = c5;
		o->tok[EVENT_CACHE_WRITE_1H] = c1;
		/* A total larger than the split (older writers): the rest is 5m. */
		if (cache_creation > c5 + c1) {
			o->tok[EVENT_CACHE_WRITE_5M] += cache_creation - c5 - c1;
		}
	} else {
		o->tok[EVENT_CACHE_WRITE_5M] = cache_creation;
	}
	return CLAUDE_LINE_USAGE;
}

int
claude_dedup_key(const struct claude_obs *obs, const char *rel_path, uint64_t line_offset,
		 char *ret_buf, size_t size)
{
	int n;

	if (obs->has_message_id) {
		/* the common case, once per record: a copy, not a format */
		size_t len = strlen(obs->message_id);
		if (len >= size) {
			return -1;
		}
		memcpy(ret_buf, obs->message_id, len + 1);
		return (int)len;
	} else if (obs->uuid[0] != '\0') {
		n = snprintf(ret_buf, size, "line:%s#%s", rel_path, obs->uuid);
	} else {
		n = snprintf(ret_buf, size, "line:%s@%" PRIu64, rel_path, line_offset);
	}
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* ---- the source ---- */

static void
claude_default_roots(const char *home, const char *xdg, char *ret, size_t size)
{
	if (xdg != NULL && xdg[0] == '/') {
		snprintf(ret, size, "%s/.claude,%s/claude", home, xdg);
	} else {
		snprintf(ret, size, "%s/.claude,%s/.config/claude", home, home);
	}
}

static void
claude_walk(struct scan *s, const struct scan_root *root, scan_file_cb *cb, void *ctx)
{
	char projects[4096 + 16];
	struct stat st;

	snprintf(projects, sizeof(projects), "%s/projects", root->path);
	if (!root->owned.strict && stat(projects, &st) < 0 &&
	    scan_name_ends(root->path, "/projects")) {
		/* the root given is projects/ itself: keys stay relative to its parent */
		char parent[4096];
		snprintf(parent, sizeof(parent), "%.*s", (int)(strlen(root->path) - 9), root->path);
		scan_walk_dir(s, root, parent, "projects", cb, ctx);
		return;
	}
	scan_walk_dir(s, root, root->path, "projects", cb, ctx);
}

static bool
claude_wanted(const char *name)
{
	/* journal.jsonl: sub-agent lifecycle records, never usage */
	return scan_name_ends(name, ".jsonl") && strcmp(name, "journal.jsonl") != 0;
}

static bool
claude_prefilter(const char *line, size_t len)
{
	return lines_has(line, len, CLAUDE_NEEDLE, sizeof(CLAUDE_NEEDLE) - 1) ||
	       lines_has(line, len, ACTION_CLAUDE_NEEDLE, sizeof(ACTION_CLAUDE_NEEDLE) - 1);
}

static bool
cloud_model(const char *m)
{
	/* Bedrock ("anthropic.", "us.anthropic.", ARNs) and Vertex ("@" versions) ids */
	return strncmp(m, "anthropic.", 10) == 0 || strstr(m, ".anthropic.") != NULL ||
	       strncmp(m, "arn:", 4) == 0 || strchr(m, '@') != NULL;
}

/* The session of a transcript whose lines lack sessionId: the file's own name. */
static void
session_from_path(const char *rel, char *ret, size_t size)
{
	const char *sub = strstr(rel, "/subagents/");
	const char *b;

	if (sub != NULL) {
		b = sub;
		while (b > rel && b[-1] != '/') {
			b--;
		}
		snprintf(ret, size, "%.*s", (int)(sub - b), b);
		return;
	}
	b = strrchr(rel, '/');
	b = b ? b + 1 : rel;
	snprintf(ret, size, "%.*s", (int)(strlen(b) - (scan_name_ends(b, ".jsonl") ? 6 : 0)), b);
}

/* Lines that are not usage: what is counted, and what is worth a warning. */
static const struct scan_skip skips[CLAUDE_LINE_MAX] = {
	[CLAUDE_LINE_INVALID] = {true, SCAN_INVALID_JSON, "invalid JSON line"},
	[CLAUDE_LINE_BAD] = {true, SCAN_BAD_LINES, "usage line with a bad timestamp or counter"},
	[CLAUDE_LINE_SYNTHETIC] = {true, SCAN_SYNTHETIC, NULL},
	[CLAUDE_LINE_API_ERROR] = {true, SCAN_API_ERRORS, NULL},
};

static void
claude_read_line(struct scan *s, const struct source_file *file, const char *line, size_t len,
		 uint64_t off, struct scan_cursor *cur)
{
	struct claude_obs o; /* 4.6 KB, on a shallow stack */
	struct source_rec rec;
	char fallback_session[128];

	enum claude_line kind;
	const char *project = NULL; /* the line's label, once computed */

	if (s->actions == NULL && !lines_has(line, len, CLAUDE_NEEDLE, sizeof(CLAUDE_NEEDLE) - 1)) {
		return; /* a tool result passed the prefilter, but nobody reads actions here */
	}
	kind = claude_line_parse(&s->doc, line, len, &o);
	/* tool calls and results, looked for in the tokens parsed already */
	if (kind != CLAUDE_LINE_INVALID && s->actions != NULL && (o.assistant || o.user)) {
		int content = o.assistant ? o.content_tok : json_get(&s->doc, o.message_tok, "content");
		if (action_claude_has_tools(&s->doc, content, o.assistant)) {
			char session[128];
			if (json_str(&s->doc, o.root[CLAUDE_R_SESSION], session, sizeof(session)) <= 0) {
				session_from_path(file->rel, session, sizeof(session));
			}
			if (kind == CLAUDE_LINE_USAGE) {
				project = project_label(s->project, NULL, o.cwd, file->owned);
			}
			action_claude_line(s, file, &s->doc, o.root, content, session,
					   kind == CLAUDE_LINE_USAGE ? o.ts_ms : 0, project);
		}
	}
	if (kind != CLAUDE_LINE_USAGE) {
		scan_skip(s, file, off, &skips[kind]);
		return;
	}
	source_rec_usage(&rec, o.ts_ms, o.tok, o.model);
	if (o.session[0] == '\0') {
		session_from_path(file->rel, fallback_session, sizeof(fallback_session));
		rec.session = fallback_session;
	} else {
		rec.session = o.session;
	}
	rec.project = project != NULL ? project
				      : project_label(s->project, NULL, o.cwd, file->owned);
	rec.speed = o.speed;
	rec.tier = o.tier;
	rec.request_id = o.request_id;
	rec.sidechain = o.sidechain;
	rec.cloud = cloud_model(o.model);
	rec.final = false; /* streaming rewrites a response over several lines */
	rec.key_src = &o;
	(void)scan_record(s, EVENT_TOOL_CLAUDE, file, off, cur, &rec);
}

static int
claude_key(const void *key_src, const struct source_file *file, uint64_t off, char *ret,
	   size_t size)
{
	return claude_dedup_key(key_src, file->rel, off, ret, size);
}

/* The account file beside a root: <root>/.claude.json, or ~/.claude.json for ~/.claude. */
static char *
load_account(const char *root, const struct owned *o, struct json_doc *doc)
{
	char path[4200];
	char *buf;
	size_t n = strlen(root);

	snprintf(path, sizeof(path), "%s/.claude.json", root);
	if ((buf = origin_load_json(path, o, doc)) != NULL) {
		return buf;
	}
	if (n >= 8 && strcmp(root + n - 8, "/.claude") == 0) {
		snprintf(path, sizeof(path), "%.*s/.claude.json", (int)(n - 8), root);
		return origin_load_json(path, o, doc);
	}
	return NULL;
}

/*
 * An OAuth login (".credentials.json" claudeAiOauth, or oauthAccount in
 * .claude.json) is a subscription; a primaryApiKey or ANTHROPIC_API_KEY is
 * the API; CLAUDE_CODE_USE_BEDROCK/VERTEX is the cloud.
 */
static enum event_billing
claude_billing(const char *root, const struct owned *o)
{
	struct json_doc doc;
	char path[4200], *buf;
	enum event_billing mode = EVENT_BILLING_UNKNOWN;
	const char *e;
	/* Reading other users' homes (o set), the environment is the service's,
	 * not theirs: it says nothing about how they pay. */
	bool own_env = o == NULL;

	if (own_env && (((e = getenv("CLAUDE_CODE_USE_BEDROCK")) != NULL && strcmp(e, "1") == 0) ||
			((e = getenv("CLAUDE_CODE_USE_VERTEX")) != NULL && strcmp(e, "1") == 0))) {
		return EVENT_BILLING_CLOUD;
	}
	json_doc_init(&doc);
	snprintf(path, sizeof(path), "%s/.credentials.json", root);
	if ((buf = origin_load_json(path, o, &doc)) != NULL &&
	    json_get(&doc, 0, "claudeAiOauth") >= 0) {
		mode = EVENT_BILLING_SUBSCRIPTION;
	}
	free(buf);
	if (mode == EVENT_BILLING_UNKNOWN && (buf = load_account(root, o, &doc)) != NULL) {
		if (json_type(&doc, json_get(&doc, 0, "oauthAccount")) == JSON_OBJECT) {
			mode = EVENT_BILLING_SUBSCRIPTION;
		} else if (json_type(&doc, json_get(&doc, 0, "primaryApiKey")) == JSON_STRING) {
			mode = EVENT_BILLING_API;
		}
		free(buf);
	}
	if (own_env && mode == EVENT_BILLING_UNKNOWN && (e = getenv("ANTHROPIC_API_KEY")) != NULL &&
	    e[0] != '\0') {
		mode = EVENT_BILLING_API;
	}
	json_doc_finish(&doc);
	return mode;
}

/* The account's email address, that one field of .claude.json. */
static int
claude_account(const char *root, const struct owned *o, char *ret_buf, size_t size)
{
	struct json_doc doc;
	char *buf;
	int r = -ENOENT;

	json_doc_init(&doc);
	if ((buf = load_account(root, o, &doc)) != NULL) {
		if (json_str(&doc, json_path(&doc, 0, "oauthAccount", "emailAddress", NULL), ret_buf,
			     size) > 0) {
			r = 0;
		}
		free(buf);
	}
	json_doc_finish(&doc);
	return r;
}

const struct source_ops source_claude = {
	.tool = EVENT_TOOL_CLAUDE,
	.name = "claude-code",
	.key = "claude",
	.dir_help = "a Claude config root (holds projects/)",
	.env = "CLAUDE_CONFIG_DIR",
	.watch_dir = "projects",
	.default_roots = claude_default_roots,
	.walk = claude_walk,
	.wanted = claude_wanted,
	.prefilter = claude_prefilter,
	.read_line = claude_read_line,
	.dedup_key = claude_key,
	.cursor_encode = NULL, /* the open response is the engine's */
	.cursor_decode = NULL,
	.billing = claude_billing,
	.account = claude_account,
};
