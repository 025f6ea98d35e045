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

enum claude_line
claude_line_parse(struct json_doc *doc, const char *line, size_t len, struct claude_obs *ret_obs)
{
	struct claude_obs *o = ret_obs;
	int msg, usage, cc, t;
	uint64_t cache_creation = 0, c5 = 0, c1 = 0;
	bool has_split;
	char ts[64];

	if (json_parse(doc, line, len) < 0) {
		return CLAUDE_LINE_INVALID;
	}
	if (json_type(doc, 0) != JSON_OBJECT || !json_str_eq(doc, json_get(doc, 0, "type"), "assistant")) {
		return CLAUDE_LINE_OTHER;
	}
	msg = json_get(doc, 0, "message");
	usage = json_get(doc, msg, "usage");
	if (json_type(doc, usage) != JSON_OBJECT) {
		return CLAUDE_LINE_OTHER;
	}
	memset(o, 0, sizeof(*o));
	opt_str(doc, json_get(doc, msg, "model"), o->model, sizeof(o->model));
	if (strcmp(o->model, "<synthetic>") == 0) {
		return CLAUDE_LINE_SYNTHETIC;
	}
	if (json_is_true(doc, json_get(doc, 0, "isApiErrorMessage"))) {
		return CLAUDE_LINE_API_ERROR;
	}
	/* JSON null is absent; an empty string is a value. */
	t = json_get(doc, msg, "id");
	if (json_str(doc, t, o->message_id, sizeof(o->message_id)) >= 0) {
		o->has_message_id = true;
	} else if (!json_is_null(doc, t)) {
		return CLAUDE_LINE_BAD;
	}
	opt_str(doc, json_get(doc, 0, "uuid"), o->uuid, sizeof(o->uuid));
	opt_str(doc, json_get(doc, 0, "sessionId"), o->session, sizeof(o->session));
	opt_str(doc, json_get(doc, 0, "cwd"), o->cwd, sizeof(o->cwd));
	opt_str(doc, json_get(doc, usage, "speed"), o->speed, sizeof(o->speed));
	opt_str(doc, json_get(doc, usage, "service_tier"), o->tier, sizeof(o->tier));
	o->sidechain = json_is_true(doc, json_get(doc, 0, "isSidechain"));
	if (json_str(doc, json_get(doc, 0, "timestamp"), ts, sizeof(ts)) < 0 ||
	    event_ts_parse(ts, &o->ts_ms) < 0) {
		return CLAUDE_LINE_BAD;
	}
	cc = json_get(doc, usage, "cache_creation");
	has_split = json_type(doc, cc) == JSON_OBJECT;
	if (counter(doc, json_get(doc, usage, "input_tokens"), &o->tok[EVENT_INPUT]) < 0 ||
	    counter(doc, json_get(doc, usage, "output_tokens"), &o->tok[EVENT_OUTPUT]) < 0 ||
	    counter(doc, json_get(doc, usage, "cache_read_input_tokens"),
		    &o->tok[EVENT_CACHE_READ]) < 0 ||
	    counter(doc, json_get(doc, usage, "cache_creation_input_tokens"), &cache_creation) < 0 ||
	    counter(doc, json_get(doc, cc, "ephemeral_5m_input_tokens"), &c5) < 0 ||
	    counter(doc, json_get(doc, cc, "ephemeral_1h_input_tokens"), &c1) < 0 ||
	    counter(doc, json_path(doc, usage, "server_tool_use", "web_search_requests", NULL),
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
