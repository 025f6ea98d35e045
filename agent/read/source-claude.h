/*
 * source-claude.h: Claude Code transcripts (spec section 1).
 *
 * Roots: $CLAUDE_CONFIG_DIR, else ~/.claude and $XDG_CONFIG_HOME/claude
 * (~/.config/claude); below a root, projects/ recursively, sub-agent files
 * included, journal.jsonl skipped. Billing from the account files beside
 * the root (origin.h); Bedrock and Vertex model ids mark single events
 * "cloud".
 *
 * Usage sits on type:"assistant" lines at message.usage. This module turns
 * one line into one observation; the ledger merges the lines and copies of
 * one response. No text content is ever copied out of a line: only ids
 * (message, line, session and the API's request id),
 * the model name, times, counters, and the cwd (which the caller turns into
 * a project label and drops).
 */
#ifndef AM_AGENT_SOURCE_CLAUDE_H
#define AM_AGENT_SOURCE_CLAUDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"
#include "source.h"

extern const struct source_ops source_claude;

/* The byte prefilter: a line without this can carry no usage. */
#define CLAUDE_NEEDLE "\"usage\""

enum claude_line {
	CLAUDE_LINE_OTHER,     /* valid JSON, no usage: ignored */
	CLAUDE_LINE_USAGE,     /* an observation */
	CLAUDE_LINE_SYNTHETIC, /* model "<synthetic>": not usage */
	CLAUDE_LINE_API_ERROR, /* isApiErrorMessage: not usage */
	CLAUDE_LINE_INVALID,   /* not JSON */
	CLAUDE_LINE_BAD,       /* usage line with a bad timestamp or counter */
	CLAUDE_LINE_MAX
};

/* The members of a line's root object claude_line_parse looks up, once for every reader. */
enum claude_root {
	CLAUDE_R_TYPE,
	CLAUDE_R_MESSAGE,
	CLAUDE_R_API_ERROR,
	CLAUDE_R_UUID,
	CLAUDE_R_SESSION,
	CLAUDE_R_CWD,
	CLAUDE_R_SIDECHAIN,
	CLAUDE_R_TIMESTAMP,
	CLAUDE_R_TOOL_USE_RESULT,
	CLAUDE_R_DENIAL,
	CLAUDE_R_REQUEST_ID,
	CLAUDE_R_MAX
};

struct claude_obs {
	bool has_message_id;
	char message_id[128];
	char uuid[80];
	char session[80];
	char model[128];
	char cwd[4096];
	char speed[32];
	char tier[32];
	char request_id[136]; /* the API's "requestId" ("req_..."), or "" */
	int64_t ts_ms;
	bool sidechain;
	uint64_t tok[EVENT_BUCKET_MAX];
	/* set for every parsed line: where tool calls and results may be (action-read.h) */
	int root[CLAUDE_R_MAX];       /* the root's members (enum claude_root), or -1 */
	int message_tok, content_tok; /* message and (assistant lines) message.content, or -1 */
	bool assistant, user;         /* the line's type */
};

/*
 * claude_line_parse(doc, line, len, ret_obs): classify one complete line
 * (without its newline) and fill ret_obs for CLAUDE_LINE_USAGE.
 */
enum claude_line claude_line_parse(struct json_doc *doc, const char *line, size_t len,
				   struct claude_obs *ret_obs);

/*
 * claude_dedup_key(obs, rel_path, line_offset, ret_buf, size): the event's
 * dedup key (proto/DESIGN.md): message.id, else "line:<rel_path>#<uuid>",
 * else "line:<rel_path>@<byte offset>". Returns the length or -1.
 */
int claude_dedup_key(const struct claude_obs *obs, const char *rel_path, uint64_t line_offset,
		     char *ret_buf, size_t size);

#endif
