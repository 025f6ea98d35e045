/*
 * source-cursor.h: Cursor's state.vscdb (specs/more-tools.md, "Cursor";
 * docs/tool-formats.md says what is and is not measured).
 *
 * Roots: Cursor's user data dir (~/.config/Cursor/User, or under
 * $XDG_CONFIG_HOME; ~/Library/Application Support/Cursor/User on macOS);
 * below it, globalStorage/state.vscdb, a SQLite database in WAL mode that
 * Cursor writes while it runs. It is opened read-only with its WAL
 * (sqlite-ro.h), never copied, and only rows of cursorDiskKV whose key
 * starts with "bubbleId:" or "composerData:" are asked for: never
 * ItemTable, which holds Cursor's login tokens.
 *
 * Nothing in it matches billing. An assistant bubble (type 2) whose
 * tokenCount {inputTokens, outputTokens} is not zero (the last bubble of a
 * turn, on some builds only) is one event: approximate, billing "unknown",
 * keyed <composerId>/<bubbleId>, at the bubble's createdAt, its model the
 * bubble's modelInfo.modelName, else the model last selected in that
 * conversation (a user bubble's modelInfo, the conversation's modelConfig),
 * else "unknown". Turns without counts, cache tokens, background calls and
 * cost are not in the file and are not invented; the context gauges are
 * not usage.
 *
 * Incremental: rows are read by rowid above a watermark kept in the
 * cursor. The table is key UNIQUE ON CONFLICT REPLACE, so a value written
 * again gets a new rowid and is read again (the tokens a bubble gets at the
 * end of its turn). Copies merge by event id.
 */
#ifndef AM_AGENT_SOURCE_CURSOR_H
#define AM_AGENT_SOURCE_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"
#include "source.h"

extern const struct source_ops source_cursor;

/* What one cursorDiskKV row is to the reader. */
enum cursor_row {
	CURSOR_ROW_OTHER,    /* not usage: a bubble without counts, a conversation without a model */
	CURSOR_ROW_USAGE,    /* an assistant bubble with counts: o is one event */
	CURSOR_ROW_SELECTED, /* a user bubble or a conversation naming the selected model */
	CURSOR_ROW_INVALID,  /* the value is not JSON */
	CURSOR_ROW_BAD,      /* a bad key, time or count */
	CURSOR_ROW_MAX
};

/* A row's parse. Only ids, a model name, a time and counts: no text. */
struct cursor_obs {
	char composer[96]; /* the conversation id */
	char key[200];     /* <composerId>/<bubbleId> (USAGE) */
	char model[128];   /* USAGE: the bubble's own, "" when it has none; SELECTED: the selected */
	int64_t ts_ms;
	uint64_t tok[EVENT_BUCKET_MAX];
};

/*
 * cursor_row_parse(doc, key, key_len, value, len, o): one row, its key
 * ("bubbleId:<composer>:<bubble>" or "composerData:<composer>") and its
 * JSON value.
 */
enum cursor_row cursor_row_parse(struct json_doc *doc, const char *key, size_t key_len,
				 const char *value, size_t len, struct cursor_obs *o);

#endif
