/*
 * normalise-codex.c: Codex's events (codex-rs/otel, events/session_telemetry.rs;
 * specs/enterprise.md 2.1). A model call is the codex.sse_event of kind
 * response.completed, the only record with its token counts; a tool call is
 * codex.tool_result (its arguments and output are never read). Its
 * counters are listed in normalise.c.
 *
 * Tokens as the agent reads Codex's own logs (specs/ai-tool-logs.md): the
 * Responses API's input_tokens include the cached and the cache-write ones
 * and output_tokens the reasoning ones, so input = input - cached -
 * written, cache read = cached, cache write (5m) = written
 * (cache_write_token_count, as the transcript's cache_write_input_tokens).
 */
#include <stdbool.h>
#include <string.h>

#include "normalise.h"

#define TOOL "codex"
#define SERVICE "codex"

static int
completed(const struct otlp_fields *f, struct otlp_result *res)
{
	uint64_t in, out, cached, written;
	uint8_t id[16];

	if (normalise_count(f, OK_INPUT_COUNT, &in) < 0 ||
	    normalise_count(f, OK_OUTPUT_COUNT, &out) < 0 ||
	    normalise_count(f, OK_CACHED_COUNT, &cached) < 0 ||
	    normalise_count(f, OK_CACHE_WRITE_COUNT, &written) < 0) {
		res->rejected++;
		return 0;
	}
	if (!f->set[OK_INPUT_COUNT] || (in == 0 && out == 0)) {
		return 0; /* a failed completion: no usage, nothing billed */
	}
	/* Codex gives the call no id: the record's content is its identity. */
	normalise_record_id(f, TOOL, id);
	cached = cached < in ? cached : in;
	written = written < in - cached ? written : in - cached;
	return normalise_call(f, TOOL, id, f->v[OK_MODEL], in - cached - written, out, cached,
			      written, res);
}

/*
 * The action kind of a Codex built-in tool (docs/actions.md), and whether
 * its name may be kept: any other name (an MCP or dynamic tool) could be
 * the user's own words and is stored as its kind only.
 */
static int
kind_of(const struct otlp_fields *f, bool *ret_builtin)
{
	static const struct normalise_kind builtin[] = {
		{ "shell", NK_SHELL },	      { "exec_command", NK_SHELL }, { "local_shell", NK_SHELL },
		{ "shell_command", NK_SHELL }, { "unified_exec", NK_SHELL }, { "write_stdin", NK_SHELL },
		{ "apply_patch", NK_EDIT },   { "web_search", NK_WEB },	    { "update_plan", NK_OTHER },
		{ "view_image", NK_OTHER },   { "spawn_agent", NK_SUBAGENT },
	};
	const char *name = f->v[OK_TOOL_NAME];

	*ret_builtin = false;
	if (f->v[OK_MCP_SERVER][0] != '\0') {
		return NK_MCP;
	}
	return normalise_kind_lookup(builtin, sizeof(builtin) / sizeof(builtin[0]), name,
				     ret_builtin);
}

/*
 * A tool call that ran: success accepted, else error. Codex logs a refused
 * call (codex.tool_decision denied) as a failed result too, so the decision
 * event is not read: reading both would give one call two records.
 */
static int
tool_result(const struct otlp_fields *f, struct otlp_result *res)
{
	bool builtin;
	int kind = kind_of(f, &builtin);

	if (f->v[OK_CALL_ID][0] == '\0') {
		return 0; /* a tool that failed before it had a call (log_tool_failed) */
	}
	return normalise_action(f, TOOL, f->v[OK_CALL_ID], builtin ? f->v[OK_TOOL_NAME] : "", kind,
				normalise_is(f, OK_SUCCESS, "true") ? ND_ACCEPTED : ND_ERROR, res);
}

int
normalise_codex_log(const struct otlp_fields *f, struct otlp_result *res)
{
	if (normalise_event_is(f, SERVICE, "codex.sse_event") &&
	    normalise_is(f, OK_EVENT_KIND, "response.completed")) {
		return completed(f, res);
	}
	if (normalise_event_is(f, SERVICE, "codex.tool_result")) {
		return tool_result(f, res);
	}
	return 0;
}
