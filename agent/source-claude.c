/* source-claude.c: one Claude Code transcript line; see source-claude.h. */
#include "source-claude.h"

#include "ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

enum { R_TYPE, R_MESSAGE, R_API_ERROR, R_UUID, R_SESSION, R_CWD, R_SIDECHAIN, R_TIMESTAMP, R_MAX };
static const char *const root_keys[R_MAX] = {
	"type", "message", "isApiErrorMessage", "uuid", "sessionId", "cwd", "isSidechain", "timestamp",
};
enum { M_USAGE, M_MODEL, M_ID, M_MAX };
static const char *const message_keys[M_MAX] = {"usage", "model", "id"};
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
	int root[R_MAX], m[M_MAX], u[U_MAX], cc[C_MAX], t;
	uint64_t cache_creation = 0, c5 = 0, c1 = 0;
	bool has_split;
	char ts[64];

	if (json_parse(doc, line, len) < 0) {
		return CLAUDE_LINE_INVALID;
	}
	/* one walk per object over the members, for all the keys it needs */
	json_get_many(doc, 0, root_keys, R_MAX, root);
	if (json_type(doc, 0) != JSON_OBJECT || !json_str_eq(doc, root[R_TYPE], "assistant")) {
		return CLAUDE_LINE_OTHER;
	}
	json_get_many(doc, root[R_MESSAGE], message_keys, M_MAX, m);
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
	if (json_is_true(doc, root[R_API_ERROR])) {
		return CLAUDE_LINE_API_ERROR;
	}
	/* JSON null is absent; an empty string is a value. */
	t = m[M_ID];
	if (json_str(doc, t, o->message_id, sizeof(o->message_id)) >= 0) {
		o->has_message_id = true;
	} else if (!json_is_null(doc, t)) {
		return CLAUDE_LINE_BAD;
	}
	opt_str(doc, root[R_UUID], o->uuid, sizeof(o->uuid));
	opt_str(doc, root[R_SESSION], o->session, sizeof(o->session));
	opt_str(doc, root[R_CWD], o->cwd, sizeof(o->cwd));
	opt_str(doc, u[U_SPEED], o->speed, sizeof(o->speed));
	opt_str(doc, u[U_TIER], o->tier, sizeof(o->tier));
	o->sidechain = json_is_true(doc, root[R_SIDECHAIN]);
	if (json_str(doc, root[R_TIMESTAMP], ts, sizeof(ts)) < 0 ||
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
		n = snprintf(ret_buf, size, "%s", obs->message_id);
	} else if (obs->uuid[0] != '\0') {
		n = snprintf(ret_buf, size, "line:%s#%s", rel_path, obs->uuid);
	} else {
		n = snprintf(ret_buf, size, "line:%s@%" PRIu64, rel_path, line_offset);
	}
	return n < 0 || (size_t)n >= size ? -1 : n;
}
