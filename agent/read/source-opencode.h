/*
 * source-opencode.h: OpenCode (specs/more-tools.md, "OpenCode";
 * docs/tool-formats.md for what 1.18.33 really writes).
 *
 * Root: the data dir, ${XDG_DATA_HOME:-~/.local/share}/opencode. Below it:
 * every opencode*.db directly in it (plus $OPENCODE_DB, absolute or
 * relative to the data dir, for the user's own roots), and the legacy
 * storage/message/<session>/<message>.json files.
 *
 * A database is SQLite in WAL mode, read through sqlite-ro (read-only,
 * with its WAL; the walk folds the -wal into the file's identity, so a pass
 * reads it only when either changed). Tables message (1.x: role in data)
 * and session_message (2.x: role in type, model in data.model), whichever
 * exist, each read by a rowid watermark: only rows inserted since the last
 * read, plus the assistant rows still in progress (inserted with zero tokens
 * and updated in place when the step ends), which are looked up again by
 * rowid until they are final. If the row at the watermark is gone or holds
 * another message (rows deleted, rowids reused), the table is read again
 * from its start: event ids keep that from counting twice.
 *
 * One event per assistant message with a non-zero token count, keyed by its
 * message id across tables, databases and JSON files; a database row beats
 * a JSON copy of the same id (the ledger treats the JSON copy as a
 * sidechain copy). Compaction calls (summary: true) are billed like any
 * other. A message is final once time.completed or error is set; zero-token
 * messages (placeholders, calls aborted before any usage) are not events.
 * Billing from providerID (github-copilot: subscription; opencode Zen: api;
 * anthropic: api, or subscription when auth.json holds an OAuth login;
 * amazon-bedrock, google-vertex*, azure: cloud). Only ids, the model, times
 * and counters are copied out (the working directory only as a project label).
 */
#ifndef AM_AGENT_SOURCE_OPENCODE_H
#define AM_AGENT_SOURCE_OPENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"
#include "source.h"

extern const struct source_ops source_opencode;

enum opencode_msg {
	OPENCODE_MSG_USAGE,   /* an assistant message with tokens: an event */
	OPENCODE_MSG_OPEN,    /* an assistant message with no tokens yet, not final */
	OPENCODE_MSG_OTHER,   /* not usage (user, other types, final with zero tokens) */
	OPENCODE_MSG_INVALID, /* not JSON (a legacy file caught half written) */
	OPENCODE_MSG_BAD,     /* an assistant message with a bad time, count or id */
	OPENCODE_MSG_MAX
};

/* A database row's columns (strings borrowed); NULL for a legacy JSON file. */
struct opencode_row {
	const char *id, *session;
	const char *type; /* session_message.type, or NULL (1.x: the role is in data) */
	int64_t time_created;
};

/* What one message holds. */
struct opencode_obs {
	char id[128];
	char session[128];
	char model[128];
	char provider[64];
	char cwd[1024];
	int64_t ts_ms;
	uint64_t tok[EVENT_BUCKET_MAX];
	bool final;
};

/* opencode_msg_wanted(js, len): the byte prefilter (an assistant message). */
bool opencode_msg_wanted(const char *js, size_t len);

/* opencode_msg_parse(doc, js, len, row, ret): one message's JSON, with its row's columns. */
enum opencode_msg opencode_msg_parse(struct json_doc *doc, const char *js, size_t len,
				     const struct opencode_row *row, struct opencode_obs *ret);

/*
 * opencode_billing(provider, anthropic_oauth, ret_cloud): the billing mode
 * providerID tells (UNKNOWN: the root's); *ret_cloud for a cloud provider.
 */
enum event_billing opencode_billing(const char *provider, bool anthropic_oauth, bool *ret_cloud);

#endif
