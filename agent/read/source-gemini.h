/*
 * source-gemini.h: Gemini CLI sessions (specs/more-tools.md, "Gemini CLI";
 * docs/tool-formats.md for what 0.61.0 really writes).
 *
 * Roots: ~/.gemini; below a root, tmp/<project>/chats/, session files and
 * sub-agent files one level down: *.jsonl, and the legacy *.json (before
 * 0.39) that Gemini CLI rewrote whole, in place, on every change.
 *
 * A file is append-only JSONL: a header (sessionId) on line 1, message
 * objects with a string id, {"$set": {...}} updates whose "messages" is a
 * checkpoint holding message objects again, and {"$rewindTo": id}. Every
 * type:"gemini" message whose tokens is an object is one billed call, keyed
 * <header sessionId>/<message id>, wherever it appears (a line or a
 * checkpoint): its copies merge in the ledger, and rewinds and checkpoints
 * hide nothing that was billed. Later header-like lines (a resume writes
 * one) are ignored.
 *
 * A legacy .json is one document {sessionId, messages[], ...}, read whole
 * whenever it changed (source_ops.whole_suffix): its messages are keyed the
 * same way, so a message also copied into the .jsonl a resume writes, or
 * seen again in a later rewrite, is one event (by its id); one caught half
 * written does not parse and is read again when it next changes. A legacy
 * /rewind rewrote the file without the rewound messages: those a reader saw
 * before stay counted. No text is copied out: ids, the model, times, counts.
 */
#ifndef AM_AGENT_SOURCE_GEMINI_H
#define AM_AGENT_SOURCE_GEMINI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"
#include "source.h"

extern const struct source_ops source_gemini;

/* Per-file state (the cursor state of the source); zeroed for a file read from its start. */
struct gemini_file {
	char session[128]; /* the header's sessionId */
	char model[128];   /* the latest gemini message's model */
	bool has_header;
};

enum gemini_line {
	GEMINI_LINE_OTHER,   /* no usage: ignored */
	GEMINI_LINE_HEADER,  /* the header: session known */
	GEMINI_LINE_USAGE,   /* one or more calls handed to the callback */
	GEMINI_LINE_INVALID, /* not JSON */
	GEMINI_LINE_BAD,     /* a usage message with a bad id, time or count */
	GEMINI_LINE_MAX
};

/* One billed call. Strings point into the caller's state or the observation itself. */
struct gemini_obs {
	char key[300]; /* <sessionId>/<message id> */
	char model[128];
	int64_t ts_ms;
	uint64_t tok[EVENT_BUCKET_MAX];
};

typedef void gemini_obs_cb(void *ctx, const struct gemini_obs *o);

/* gemini_line_wanted(line, len): the byte prefilter (a gemini message or a header). */
bool gemini_line_wanted(const char *line, size_t len);

/*
 * gemini_line_parse(doc, line, len, f, cb, ctx): one complete line; cb gets
 * each call it holds (a checkpoint holds many). A bad message among good
 * ones makes the line BAD after the good ones were handed over.
 */
enum gemini_line gemini_line_parse(struct json_doc *doc, const char *line, size_t len,
				   struct gemini_file *f, gemini_obs_cb *cb, void *ctx);

/*
 * gemini_doc_parse(doc, buf, len, f, cb, ctx): one whole legacy document;
 * f is reset (its session is the document's); cb gets each call. INVALID
 * when it does not parse (half written), HEADER when it holds no call.
 */
enum gemini_line gemini_doc_parse(struct json_doc *doc, const char *buf, size_t len,
				  struct gemini_file *f, gemini_obs_cb *cb, void *ctx);

/*
 * Shared with Qwen Code, a fork of Gemini CLI that keeps its layout:
 * gemini_walk_chats(s, root, sub, cb, ctx) offers the .jsonl files below a
 * chats/ dir under root/sub; gemini_string_key is a dedup_key whose key_src
 * is the key itself; gemini_auth_billing(root, o, modes, n) maps
 * settings.json security.auth.selectedType through modes (else unknown).
 */
struct gemini_auth {
	const char *type;
	enum event_billing mode;
};

void gemini_walk_chats(struct scan *s, const struct scan_root *root, const char *sub,
		       scan_file_cb *cb, void *ctx);
int gemini_string_key(const void *key_src, const struct source_file *file, uint64_t off,
		      char *ret, size_t size);
enum event_billing gemini_auth_billing(const char *root, const struct owned *o,
				       const struct gemini_auth *modes, size_t n);

#endif
