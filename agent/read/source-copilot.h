/*
 * source-copilot.h: GitHub Copilot CLI sessions (specs/more-tools.md, as
 * docs/tool-formats.md found 1.0.102 to write them).
 *
 * Roots: $COPILOT_HOME, else ~/.copilot; below a root,
 * session-state/<session id>/events.jsonl, appended to by new, resumed and
 * continued sessions. Every billed model call is one session.usage_record
 * line there, a sub-agent's in its parent's file (with agentId): that is
 * the source of truth. The OpenTelemetry file export and session-store.db
 * record the same calls again and are not read, so no call counts twice.
 *
 * A usage record becomes one event: key accounting.usageId (the API's
 * response id), else apiCallId, else "<session>/<record id>"; time the
 * record's timestamp; model data.usage.model as written; input =
 * inputTokens - cacheReadTokens - cacheWriteTokens (inputTokens holds all
 * three), every cache write 5-minute; output = outputTokens (reasoning
 * included). isByok true bills the user's own key ("api"), false a Copilot
 * subscription; absent, the root's mode (subscription). No text is copied
 * out of a line: ids, the model, times, counters, and the working directory
 * of session.start/session.resume, which becomes the project label.
 */
#ifndef AM_AGENT_SOURCE_COPILOT_H
#define AM_AGENT_SOURCE_COPILOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"
#include "source.h"

extern const struct source_ops source_copilot;

enum copilot_line {
	COPILOT_LINE_OTHER,   /* valid JSON, not usage: ignored */
	COPILOT_LINE_META,    /* session.start or session.resume: session and cwd */
	COPILOT_LINE_USAGE,   /* an observation */
	COPILOT_LINE_ZERO,    /* a usage record whose buckets are all zero: not an event */
	COPILOT_LINE_INVALID, /* not JSON */
	COPILOT_LINE_BAD,     /* usage record with a bad timestamp or counter */
	COPILOT_LINE_MAX
};

/* How the call was paid, from data.usage.isByok. */
enum copilot_byok { COPILOT_BYOK_ABSENT, COPILOT_BYOK_NO, COPILOT_BYOK_YES };

struct copilot_obs {
	char key[256];      /* dedup key */
	char model[128];
	char session[80];   /* COPILOT_LINE_META: data.sessionId, "" if none */
	char cwd[4096];     /* COPILOT_LINE_META: data.context.cwd, "" if none */
	int64_t ts_ms;
	bool sub_agent;     /* agentId set: a sub-agent's call */
	enum copilot_byok byok;
	uint64_t tok[EVENT_BUCKET_MAX];
};

/* copilot_line_wanted(line, len): the byte prefilter (usage records, session start and resume). */
bool copilot_line_wanted(const char *line, size_t len);

/*
 * copilot_line_parse(doc, line, len, session, ret_obs): classify one
 * complete line; session is the file's session id, for the fallback key.
 */
enum copilot_line copilot_line_parse(struct json_doc *doc, const char *line, size_t len,
				     const char *session, struct copilot_obs *ret_obs);

#endif
