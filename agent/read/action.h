/*
 * action.h: action records, one per tool call an AI tool made, with its
 * outcome (docs/actions.md; the binding rules are specs/outcomes.md A-G).
 *
 * The readers hand in what each line says about a call (struct action_call,
 * from the line carrying it) or about its result (struct action_result); the
 * table merges every occurrence of one call key, in any file and any order,
 * under the rules of section B: content from the earliest occurrence, the
 * decision of the earliest deciding result, in_subagent only when every
 * line carrying the call is a sub-agent line. action_table_get then applies
 * the decision rules and the success conditions for commits and pull
 * requests. No text from a call's input or output is kept: only counts,
 * flags, the extension, and names (built-in, allowlisted or keyed-hashed).
 */
#ifndef AM_AGENT_ACTION_H
#define AM_AGENT_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"
#include "strpool.h"

enum action_kind {
	ACTION_EDIT,
	ACTION_WRITE,
	ACTION_SHELL,
	ACTION_COMMIT,
	ACTION_PULL_REQUEST,
	ACTION_SUBAGENT,
	ACTION_SKILL,
	ACTION_MCP,
	ACTION_WEB,
	ACTION_OTHER,
	ACTION_KIND_MAX
};

enum action_decision {
	ACTION_UNKNOWN,
	ACTION_ACCEPTED,
	ACTION_REJECTED,
	ACTION_ERROR,
	ACTION_DECISION_MAX
};

/* What decides a Codex call (D.2): its class. Claude calls are ACTION_CLASS_DIRECT. */
enum action_class {
	ACTION_CLASS_DIRECT, /* Claude: the result's own decision */
	ACTION_CLASS_SHELL,
	ACTION_CLASS_PATCH,
	ACTION_CLASS_MCP,
	ACTION_CLASS_OTHER,
	ACTION_CLASS_WEB, /* Codex web_search_call: decided by the item itself */
	ACTION_CLASS_MAX
};

/* One line carrying a call. Strings are borrowed for the call of action_add_call. */
struct action_call {
	enum event_tool tool;
	const char *key; /* the call key: tool_use.id, call_id, web_search_call@ts#n */
	int64_t ts_ms;
	const char *session, *project;
	uint16_t origin;
	bool subagent; /* a sub-agent line (isSidechain; a sub-agent rollout) */
	enum action_kind kind;
	enum action_class cls;
	const char *tool_name, *target; /* as shipped: clear or keyed-hashed */
	uint32_t prop_added, prop_removed;
	char file_ext[12];
	bool shell_commit, shell_pr; /* section E found them in the command */
	bool mcp_pr;                 /* an MCP tool that opens a pull request */
	bool background;             /* Claude run_in_background */
	enum action_decision web;    /* Codex web_search_call: from its status */
};

/* Facts of a Codex output item (D.3, D.4). */
struct action_output {
	bool rejected, aborted, running, success_text;
	bool exit_known;
	int64_t exit_code;
};

/* One line carrying a result (Claude tool_result; Codex output or end event). */
struct action_result {
	enum event_tool tool;
	const char *key;
	int64_t ts_ms;
	enum { ACTION_RES_CLAUDE, ACTION_RES_OUTPUT, ACTION_RES_EXEC_END, ACTION_RES_PATCH_END,
	       ACTION_RES_MCP_END } what;
	/* Claude */
	enum action_decision decision;
	bool has_applied; /* toolUseResult gave the applied lines */
	uint32_t applied_added, applied_removed;
	bool background; /* toolUseResult.backgroundTaskId */
	/* Codex */
	struct action_output out;
	bool declined, success, error; /* end events: status declined; patch success; MCP error */
	bool exit_known;
	int64_t exit_code;
	uint32_t deleted_lines; /* patch_apply_end: lines of deleted files */
};

/* An action as shipped and printed (section A). Strings borrow from the table. */
struct action_rec {
	uint8_t id[16];
	enum event_tool tool;
	int64_t ts_ms;
	const char *session, *project;
	uint16_t origin;
	enum action_kind kind;
	const char *tool_name, *target;
	enum action_decision decision;
	uint32_t lines_added, lines_removed, proposed_added, proposed_removed;
	char file_ext[12];
	bool commit, pull_request, in_subagent;
};

struct action_entry;

struct action_table {
	struct action_entry *v;
	size_t n, cap;
	uint32_t *slots; /* open addressing on the id: index + 1, and id bits above it (action.c) */
	size_t n_slots;
	struct strpool strs; /* sessions, projects, names, targets */
	/* names (section G): the organisation key and the allowlist, borrowed */
	const uint8_t *key;
	size_t key_len;
	const char *allow; /* comma-separated names shipped in clear, or NULL */
	struct json_doc args; /* scratch: a Codex call's arguments or output, parsed */
	/* the strings a call interned last (session, project, name, target): consecutive calls repeat them */
	uint32_t recent[4];
	/* the last key's id: a call is looked up twice in a row (action_merge_copy, then add) */
	uint8_t last_tool;
	char last_key[64];
	uint8_t last_id[16];
};

/* action_table_init(t, key, key_len, allow): key and allow are borrowed. */
void action_table_init(struct action_table *t, const uint8_t *key, size_t key_len,
		       const char *allow);

/* action_table_finish(t): free; accepts a zeroed table. */
void action_table_finish(struct action_table *t);

/*
 * action_merge_copy(t, tool, key, ts_ms, subagent, session): a line carrying
 * a call already known at ts_ms or earlier needs no reading: merge what it
 * can change and return 1. 0: read the call (action_add_call); -ENOMEM.
 */
int action_merge_copy(struct action_table *t, enum event_tool tool, const char *key, int64_t ts_ms,
		      bool subagent, const char *session);

/* action_add_call(t, c) / action_add_result(t, r): merge one occurrence. 0 or -ENOMEM. */
int action_add_call(struct action_table *t, const struct action_call *c);
int action_add_result(struct action_table *t, const struct action_result *r);

/*
 * action_table_get(t, i, ret): the i-th action as shipped, rules applied.
 * A key seen only in results (its call not read) has no record: returns
 * false then.
 */
bool action_table_get(const struct action_table *t, size_t i, struct action_rec *ret);

/* action_table_sort(t, ret_order): indexes by time, then id; malloc'd (caller frees), or NULL. */
size_t *action_table_sort(const struct action_table *t);

/*
 * action_name(t, category, name, ret, size): name in clear when allowlisted,
 * else "h:" and the first 16 hex digits of HMAC-SHA-256(key, category 0x00
 * name). Categories: "mcp-server", "mcp-tool", "skill", "agent", "tool".
 */
void action_name(const struct action_table *t, const char *category, const char *name,
		 char *ret, size_t size);

/* action_id(tool, key, ret_id): the id of the call key (event id of "action:<key>"). */
void action_id(enum event_tool tool, const char *key, uint8_t ret_id[16]);

/* action_kind_name(k), action_decision_name(d): their names in JSONL and reports. */
const char *action_kind_name(enum action_kind k);
const char *action_decision_name(enum action_decision d);

#endif
