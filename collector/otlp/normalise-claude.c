/*
 * normalise-claude.c: Claude Code's events (specs/enterprise.md 1.5):
 * claude_code.api_request is one model call; claude_code.tool_decision
 * (reject) and claude_code.tool_result are one tool call each. Its
 * counters are listed in normalise.c.
 */
#include <stdio.h>
#include <string.h>

#include "event_id.h"
#include "normalise.h"

#define TOOL "claude-code"
#define SERVICE "claude-code"
/* Distinct from the agent's transcript keys (message ids): an OTLP copy of a
 * call never shares an id with a transcript record by accident. */
#define EVENT_KEY_PREFIX "otlp:"

static int
api_request(const struct otlp_fields *f, struct otlp_result *res)
{
	uint8_t id[16];
	uint64_t in, out, cr, cc;
	size_t before = res->n_calls;
	char key[300];
	int n, r;

	/* One call, one id, however often the export is retried. */
	if (f->v[OK_REQUEST_ID][0] != '\0') {
		n = snprintf(key, sizeof(key), EVENT_KEY_PREFIX "req:%s", f->v[OK_REQUEST_ID]);
	} else if (f->v[OK_SESSION][0] != '\0' && f->v[OK_EVENT_SEQUENCE][0] != '\0') {
		n = snprintf(key, sizeof(key), EVENT_KEY_PREFIX "seq:%s#%s", f->v[OK_SESSION],
			     f->v[OK_EVENT_SEQUENCE]);
	} else {
		res->rejected++;
		return 0;
	}
	am_event_id(TOOL, key, (size_t)n, id);
	if (normalise_count(f, OK_INPUT, &in) < 0 || normalise_count(f, OK_OUTPUT, &out) < 0 ||
	    normalise_count(f, OK_CACHE_READ, &cr) < 0 ||
	    normalise_count(f, OK_CACHE_CREATION, &cc) < 0) {
		res->rejected++;
		return 0;
	}
	r = normalise_call(f, TOOL, id, f->v[OK_MODEL], in, out, cr, cc, res);
	if (r == 0 && res->n_calls > before) {
		/* The agent's words: "standard" or "fast". */
		snprintf(res->calls[before].speed, sizeof(res->calls[before].speed), "%s",
			 strcmp(f->v[OK_SPEED], "fast") == 0 ? "fast" :
			 f->v[OK_SPEED][0] != '\0'	      ? "standard" :
								"");
	}
	return r;
}

/* The action kind of a Claude Code tool (docs/actions.md's kinds). */
static int
kind_of(const char *name)
{
	static const struct normalise_kind kinds[] = {
		{ "Edit", NK_EDIT },	 { "MultiEdit", NK_EDIT }, { "NotebookEdit", NK_EDIT },
		{ "Write", NK_WRITE },	 { "Bash", NK_SHELL },	    { "Task", NK_SUBAGENT },
		{ "Agent", NK_SUBAGENT }, { "Skill", NK_SKILL },	    { "WebFetch", NK_WEB },
		{ "WebSearch", NK_WEB },
	};

	bool known;

	if (strncmp(name, "mcp__", 5) == 0 || strcmp(name, "mcp_tool") == 0) {
		return NK_MCP;
	}
	/* Other plain names are kept (normalise_action): Claude's own tools, as the agent does. */
	return normalise_kind_lookup(kinds, sizeof(kinds) / sizeof(kinds[0]), name, &known);
}

/*
 * A tool call: its result when it ran (success: accepted, else error), its
 * decision only when refused (a refused call has no result), so each call
 * becomes one record whichever events arrive.
 */
static int
tool_event(const struct otlp_fields *f, bool result, struct otlp_result *res)
{
	const char *name = f->v[OK_TOOL_NAME], *id = f->v[OK_TOOL_USE_ID];
	int decision;

	if (id[0] == '\0') {
		return 0; /* no call id (older versions): never told apart from a retry, not kept */
	}
	if (result) {
		decision = normalise_is(f, OK_SUCCESS, "false") ? ND_ERROR : ND_ACCEPTED;
	} else if (normalise_is(f, OK_DECISION, "reject")) {
		decision = ND_REJECTED;
	} else {
		return 0; /* accepted: the result decides */
	}
	return normalise_action(f, TOOL, id, name, kind_of(name), decision, res);
}

int
normalise_claude_log(const struct otlp_fields *f, struct otlp_result *res)
{
	if (normalise_event_is(f, SERVICE, "claude_code.api_request")) {
		return api_request(f, res);
	}
	if (normalise_event_is(f, SERVICE, "claude_code.tool_result")) {
		return tool_event(f, true, res);
	}
	if (normalise_event_is(f, SERVICE, "claude_code.tool_decision")) {
		return tool_event(f, false, res);
	}
	return 0;
}
