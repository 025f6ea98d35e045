/*
 * normalise-codex.c: Codex's events (codex-rs/otel, events/session_telemetry.rs;
 * specs/enterprise.md 2.1). A model call is the codex.sse_event of kind
 * response.completed, the only record with its token counts; a tool call is
 * codex.tool_result (its arguments and output are never read). Its
 * counters are listed in normalise.c.
 *
 * Tokens as the agent reads Codex's own logs (specs/ai-tool-logs.md): the
 * Responses API's input_tokens include the cached ones and output_tokens
 * the reasoning ones, so input = input - cached, cache read = cached.
 */
#include <string.h>

#include "normalise.h"

#define TOOL "codex"
#define SERVICE "codex"

static int
completed(const struct otlp_fields *f, struct otlp_result *res)
{
	uint64_t in, out, cached;
	uint8_t id[16];

	if (normalise_count(f, OK_INPUT_COUNT, &in) < 0 ||
	    normalise_count(f, OK_OUTPUT_COUNT, &out) < 0 ||
	    normalise_count(f, OK_CACHED_COUNT, &cached) < 0) {
		res->rejected++;
		return 0;
	}
	if (!f->set[OK_INPUT_COUNT] || (in == 0 && out == 0)) {
		return 0; /* a failed completion: no usage, nothing billed */
	}
	/* Codex gives the call no id: the record's content is its identity. */
	normalise_record_id(f, TOOL, id);
	return normalise_call(f, TOOL, id, f->v[OK_MODEL], in > cached ? in - cached : 0, out,
			      cached < in ? cached : in, 0, res);
}

/* The action kind of a Codex tool (docs/actions.md: Codex's built-in tools). */
static int
kind_of(const struct otlp_fields *f)
{
	const char *name = f->v[OK_TOOL_NAME];

	if (f->v[OK_MCP_SERVER][0] != '\0') {
		return NK_MCP;
	}
	if (strcmp(name, "shell") == 0 || strcmp(name, "exec_command") == 0 ||
	    strcmp(name, "local_shell") == 0 || strcmp(name, "container.exec") == 0 ||
	    strcmp(name, "shell_command") == 0) {
		return NK_SHELL;
	}
	if (strcmp(name, "apply_patch") == 0) {
		return NK_EDIT;
	}
	if (strcmp(name, "web_search") == 0) {
		return NK_WEB;
	}
	return NK_OTHER;
}

/*
 * A tool call that ran: success accepted, else error. Codex logs a refused
 * call (codex.tool_decision denied) as a failed result too, so the decision
 * event is not read: reading both would give one call two records.
 */
static int
tool_result(const struct otlp_fields *f, struct otlp_result *res)
{
	if (f->v[OK_CALL_ID][0] == '\0') {
		return 0; /* a tool that failed before it had a call (log_tool_failed) */
	}
	return normalise_action(f, TOOL, f->v[OK_CALL_ID], f->v[OK_TOOL_NAME], kind_of(f),
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
