/*
 * normalise-gemini.c: Gemini CLI's events (gemini-cli packages/core/src/
 * telemetry/types.ts; specs/enterprise.md 2.2): gemini_cli.api_response is
 * one model call, gemini_cli.tool_call one tool call (its arguments are
 * never read). Its counters are listed in normalise.c.
 *
 * Tokens as the agent reads Gemini's chat files (specs/more-tools.md,
 * Gemini CLI): promptTokenCount includes the cached tokens, thoughts are
 * billed as output and tool-use prompt tokens as input, so input =
 * input - cached + tool, cache read = cached, output = output + thoughts.
 */
#include <stdbool.h>
#include <string.h>

#include "normalise.h"

#define TOOL "gemini-cli"
#define SERVICE "gemini-cli"

static int
api_response(const struct otlp_fields *f, struct otlp_result *res)
{
	uint64_t in, out, cached, thoughts, tool;
	uint8_t id[16];

	if (normalise_count(f, OK_INPUT_COUNT, &in) < 0 ||
	    normalise_count(f, OK_OUTPUT_COUNT, &out) < 0 ||
	    normalise_count(f, OK_CACHED_CONTENT_COUNT, &cached) < 0 ||
	    normalise_count(f, OK_THOUGHTS_COUNT, &thoughts) < 0 ||
	    normalise_count(f, OK_TOOL_COUNT, &tool) < 0) {
		res->rejected++;
		return 0;
	}
	if (in == 0 && out == 0 && thoughts == 0 && tool == 0) {
		return 0; /* no usage: not a call (more-tools.md, common rules) */
	}
	/* Gemini gives the event no call id: the record's content is its identity. */
	normalise_record_id(f, TOOL, id);
	return normalise_call(f, TOOL, id, f->v[OK_MODEL][0] != '\0' ? f->v[OK_MODEL] : "unknown",
			      (in > cached ? in - cached : 0) + tool, out + thoughts,
			      cached < in ? cached : in, 0, res);
}

/*
 * The action kind of a Gemini CLI built-in tool, and whether its name may
 * be kept: any other name (an MCP or extension tool) could be the user's own
 * words and is stored as its kind only.
 */
static int
kind_of(const struct otlp_fields *f, bool *ret_builtin)
{
	static const struct normalise_kind builtin[] = {
		{ "replace", NK_EDIT },		 { "edit", NK_EDIT },
		{ "write_file", NK_WRITE },	 { "run_shell_command", NK_SHELL },
		{ "web_fetch", NK_WEB },	 { "google_web_search", NK_WEB },
		{ "activate_skill", NK_SKILL }, { "delegate_to_agent", NK_SUBAGENT },
		{ "invoke_agent", NK_SUBAGENT }, { "read_file", NK_OTHER },
		{ "read_many_files", NK_OTHER }, { "list_directory", NK_OTHER },
		{ "glob", NK_OTHER },		 { "search_file_content", NK_OTHER },
		{ "save_memory", NK_OTHER },	 { "write_todos", NK_OTHER },
	};
	const char *name = f->v[OK_FUNCTION_NAME];

	*ret_builtin = false;
	if (normalise_is(f, OK_TOOL_TYPE, "mcp")) {
		return NK_MCP;
	}
	return normalise_kind_lookup(builtin, sizeof(builtin) / sizeof(builtin[0]), name,
				     ret_builtin);
}

/* decision accept / auto_accept / modify ran the tool; reject refused it. */
static int
tool_call(const struct otlp_fields *f, struct otlp_result *res)
{
	bool builtin;
	int kind = kind_of(f, &builtin), decision;

	if (normalise_is(f, OK_DECISION, "reject")) {
		decision = ND_REJECTED;
	} else {
		decision = normalise_is(f, OK_SUCCESS, "true") ? ND_ACCEPTED : ND_ERROR;
	}
	/* No call id in the event: the record's own id (normalise_action with ""). */
	return normalise_action(f, TOOL, "", builtin ? f->v[OK_FUNCTION_NAME] : "", kind, decision,
				res);
}

int
normalise_gemini_log(const struct otlp_fields *f, struct otlp_result *res)
{
	if (normalise_event_is(f, SERVICE, "gemini_cli.api_response")) {
		return api_response(f, res);
	}
	if (normalise_event_is(f, SERVICE, "gemini_cli.tool_call")) {
		return tool_call(f, res);
	}
	return 0;
}
