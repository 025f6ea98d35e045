/*
 * source-qwen.h: Qwen Code sessions (specs/more-tools.md, "Qwen Code";
 * docs/tool-formats.md for what 0.24.4 really writes).
 *
 * Roots: ~/.qwen; below a root, projects/<project>/chats/<sessionId>.jsonl (the
 * sub-agent transcripts under subagents/ are not read: their calls are in
 * the main file's telemetry).
 *
 * The usage record is the system ui_telemetry record whose uiEvent is
 * "qwen-code.api_response": one per billed call, the background memory
 * extractor's and the sub-agents' included, which the assistant records
 * miss (the real tool differs from the spec here; the two kinds share no
 * key, so only one kind is read). Key: the record's uuid, which a /branch
 * copy keeps. No text is copied out: ids, the model, times, counts, the
 * cwd (turned into a project label and dropped).
 */
#ifndef AM_AGENT_SOURCE_QWEN_H
#define AM_AGENT_SOURCE_QWEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"
#include "source.h"

extern const struct source_ops source_qwen;

enum qwen_line {
	QWEN_LINE_OTHER,   /* no usage: ignored */
	QWEN_LINE_USAGE,   /* an observation */
	QWEN_LINE_INVALID, /* not JSON */
	QWEN_LINE_BAD,     /* an api_response with a bad id, time or count */
	QWEN_LINE_MAX
};

struct qwen_obs {
	char key[160]; /* the record's uuid */
	char session[128];
	char model[128];
	char cwd[1024];
	int64_t ts_ms;
	uint64_t tok[EVENT_BUCKET_MAX];
};

/* qwen_line_wanted(line, len): the byte prefilter (an api_response telemetry record). */
bool qwen_line_wanted(const char *line, size_t len);

/* qwen_line_parse(doc, line, len, ret_obs): one complete line. */
enum qwen_line qwen_line_parse(struct json_doc *doc, const char *line, size_t len,
			       struct qwen_obs *ret_obs);

#endif
