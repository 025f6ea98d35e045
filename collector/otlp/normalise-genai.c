/*
 * normalise-genai.c: spans under the OpenTelemetry GenAI semantic
 * conventions, as GitHub Copilot CLI reports them (specs/more-tools.md,
 * Copilot CLI; confirmed with Copilot CLI 1.0.102 in realtools-otlp-tools):
 * a "chat" span with usage is one model call, keyed by its trace and span
 * ids; invoke_agent spans (sums of their chats) and error spans without
 * usage are not. An execute_tool span is one tool call, keyed by its
 * gen_ai.tool.call.id (its arguments are never read).
 *
 * Tokens: gen_ai.usage.input_tokens includes the cache reads and writes,
 * output_tokens the reasoning ones; so input = input - read - write.
 */
#include <stdio.h>
#include <string.h>

#include "event_id.h"
#include "normalise.h"

static bool
is_chat(const struct otlp_fields *f)
{
	if (f->set[OK_GENAI_OPERATION]) {
		return strcmp(f->v[OK_GENAI_OPERATION], "chat") == 0;
	}
	return strncmp(f->v[OK_SPAN_NAME], "chat ", 5) == 0;
}

/* A tool call: an error status or a failed process is an error, else it ran. */
static int
execute_tool(const struct otlp_fields *f, const char *tool, struct otlp_result *res)
{
	static const struct normalise_kind builtin[] = {
		{ "bash", NK_SHELL },	     { "shell", NK_SHELL },	 { "edit", NK_EDIT },
		{ "str_replace", NK_EDIT }, { "create", NK_WRITE },	 { "view", NK_OTHER },
		{ "web_fetch", NK_WEB },    { "task", NK_SUBAGENT },	 { "skill", NK_SKILL },
		{ "read_bash", NK_SHELL },  { "write_bash", NK_SHELL },
	};
	const char *name = f->v[OK_GENAI_TOOL_NAME];
	bool known, failed = f->set[OK_SPAN_ERROR] ||
			     (f->set[OK_EXIT_CODE] && strcmp(f->v[OK_EXIT_CODE], "0") != 0);
	int kind = normalise_kind_lookup(builtin, sizeof(builtin) / sizeof(builtin[0]), name,
					 &known);

	if (f->v[OK_GENAI_TOOL_CALL_ID][0] == '\0') {
		return 0; /* no call id: never told apart from a retry, not kept */
	}
	return normalise_action(f, tool, f->v[OK_GENAI_TOOL_CALL_ID], known ? name : "", kind,
				failed ? ND_ERROR : ND_ACCEPTED, res);
}

int
normalise_genai_span(const struct otlp_fields *f, const char *tool, struct otlp_result *res)
{
	uint64_t in, out, cr, cw, cw2;
	uint8_t id[16];
	char key[200];
	int n;

	if (normalise_is(f, OK_GENAI_OPERATION, "execute_tool")) {
		return execute_tool(f, tool, res);
	}
	if (!is_chat(f)) {
		return 0;
	}
	if (normalise_count(f, OK_GENAI_INPUT, &in) < 0 ||
	    normalise_count(f, OK_GENAI_OUTPUT, &out) < 0 ||
	    normalise_count(f, OK_GENAI_CACHE_READ, &cr) < 0 ||
	    normalise_count(f, OK_GENAI_CACHE_CREATION, &cw) < 0 ||
	    normalise_count(f, OK_GENAI_CACHE_WRITE, &cw2) < 0 || f->v[OK_SPAN_KEY][0] == '\0') {
		res->rejected++;
		return 0;
	}
	if (in == 0 && out == 0) {
		return 0; /* an error span, or a chat without usage */
	}
	if (cw == 0) {
		cw = cw2;
	}
	n = snprintf(key, sizeof(key), "otlp:span:%s", f->v[OK_SPAN_KEY]);
	am_event_id(tool, key, (size_t)n, id);
	return normalise_call(f, tool, id,
			      f->v[OK_GENAI_RESPONSE_MODEL][0] != '\0' ?
				      f->v[OK_GENAI_RESPONSE_MODEL] :
				      f->v[OK_GENAI_REQUEST_MODEL],
			      in > cr + cw ? in - cr - cw : 0, out, cr, cw, res);
}
