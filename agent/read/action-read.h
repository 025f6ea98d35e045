/*
 * action-read.h: the lines of Claude Code transcripts and Codex rollouts
 * that carry tool calls and their results, into the scan's action table
 * (action.h). The sources call these on lines they already parsed.
 */
#ifndef AM_AGENT_ACTION_READ_H
#define AM_AGENT_ACTION_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "source-claude.h"
#include "source-codex.h"
#include "source.h"

struct scan;

/* Needles of the prefilters: a line without them carries no call or result. */
#define ACTION_CLAUDE_NEEDLE "\"tool_"
#define ACTION_CODEX_NEEDLE "\"call_id\""
#define ACTION_CODEX_NEEDLE_WEB "\"web_search_call\""
/* Codex 0.169+: an applied patch as an item_completed item (no call_id key) */
#define ACTION_CODEX_NEEDLE_FILE "\"FileChange\""

/*
 * action_claude_has_tools(doc, content, assistant): content holds a
 * tool_use (assistant) or tool_result block.
 */
bool action_claude_has_tools(const struct json_doc *doc, int content, bool assistant);

/*
 * action_claude_line(s, file, doc, root, content, session, ts_ms, project):
 * doc (parsed) is a Claude line, root its members as claude_line_parse
 * found them (enum claude_root) and content its message.content; its
 * tool_use blocks (assistant) and tool_result blocks (user) go into
 * s->actions. session is the line's session (or the file's); ts_ms its
 * time and project its label when already known (else 0, NULL).
 */
void action_claude_line(struct scan *s, const struct source_file *file, const struct json_doc *doc,
			const int *root, int content, const char *session, int64_t ts_ms,
			const char *project);

/*
 * action_codex_line(s, file, doc, cx, label): doc (parsed) is a Codex line;
 * its calls, outputs and end events go into s->actions. cx is the file's
 * state (session, sub-agent, web search counter), label its project label.
 */
void action_codex_line(struct scan *s, const struct source_file *file, const struct json_doc *doc,
		       struct codex_file *cx, const char *label);

#endif
