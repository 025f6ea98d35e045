/* action-claude.c: tool calls and results in Claude Code transcripts; see action-read.h. */
#include "action-read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action-lines.h"
#include "action-shell.h"
#include "action.h"
#include "project.h"
#include "scan.h"

/* A long string's lines as action_lines counts them, on the raw text (NULL/absent: 0). */
static uint32_t
str_lines(const struct json_doc *d, int t)
{
	int last;
	int64_t lf = json_str_count(d, t, '\n', &last);

	if (lf < 0 || last < 0) {
		return 0;
	}
	return (uint32_t)lf + (last ? 0 : 1);
}

/* trim() of two strings (tokens; -1 is absent). */
static void
str_trim(const struct json_doc *d, int old_t, int new_t, uint32_t *added, uint32_t *removed)
{
	size_t on = 0, nn = 0;
	char *o = json_str_dup(d, old_t, &on);
	char *w = json_str_dup(d, new_t, &nn);
	uint32_t a = 0, r = 0;

	if (action_trim(o != NULL ? o : "", on, w != NULL ? w : "", nn, &a, &r) == 0) {
		*added += a;
		*removed += r;
	}
	free(o);
	free(w);
}

static void
ext_of(const struct json_doc *d, int t, char ret[12])
{
	size_t n = 0;
	char *p = json_str_dup(d, t, &n);

	ret[0] = '\0';
	if (p != NULL) {
		action_file_ext(p, n, ret);
	}
	free(p);
}

static bool
builtin_name(const char *n)
{
	size_t len = strlen(n);

	if (len < 1 || len > 64 || strncmp(n, "mcp__", 5) == 0 ||
	    !((n[0] >= 'A' && n[0] <= 'Z') || (n[0] >= 'a' && n[0] <= 'z'))) {
		return false;
	}
	for (size_t i = 1; i < len; i++) {
		char c = n[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_')) {
			return false;
		}
	}
	return true;
}

static bool
builtin_agent(const char *t)
{
	static const char *const types[] = {"general-purpose", "Explore", "Plan", "statusline-setup",
					    "output-style-setup", "claude-code-guide"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(t, types[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* One tool_use block of an assistant line. */
static void
claude_call(struct scan *s, const struct source_file *file, const struct json_doc *d, int blk,
	    int64_t ts, const char *session, const char *project, bool sidechain)
{
	enum { B_ID, B_NAME, B_INPUT, B_MAX };
	static const char *const blk_keys[B_MAX] = {"id", "name", "input"};
	enum { I_OLD, I_NEW, I_PATH, I_EDITS, I_MODE, I_SOURCE, I_NB_PATH, I_CONTENT, I_COMMAND,
	       I_BACKGROUND, I_SUBAGENT, I_SKILL, I_MAX };
	static const char *const in_keys[I_MAX] = {
		"old_string", "new_string", "file_path",     "edits",   "edit_mode",
		"new_source", "notebook_path", "content",    "command", "run_in_background",
		"subagent_type", "skill",
	};
	char key[256], name[256], tool_name[300], target[256], sub[256];
	int b[B_MAX], in[I_MAX];
	struct action_call c;

	json_get_many(d, blk, blk_keys, B_MAX, b);
	if (json_str(d, b[B_ID], key, sizeof(key)) <= 0 ||
	    action_merge_copy(s->actions, EVENT_TOOL_CLAUDE, key, ts, sidechain, session) != 0 ||
	    json_str(d, b[B_NAME], name, sizeof(name)) < 0) {
		return; /* a copy of a known call (resumed, replayed) is not read again */
	}
	/* one walk over the input for every member any tool below reads */
	json_get_many(d, b[B_INPUT], in_keys, I_MAX, in);
	memset(&c, 0, sizeof(c));
	c.tool = EVENT_TOOL_CLAUDE;
	c.key = key;
	c.ts_ms = ts;
	c.session = session;
	c.project = project;
	c.origin = file->origin;
	c.subagent = sidechain;
	c.cls = ACTION_CLASS_DIRECT;
	c.kind = ACTION_OTHER;
	c.tool_name = tool_name;
	c.target = target;
	target[0] = '\0';
	if (strncmp(name, "mcp__", 5) == 0) {
		const char *srv = name + 5, *sep = strstr(srv, "__");
		char server[256], hs[64], ht[64];
		snprintf(server, sizeof(server), "%.*s", (int)(sep != NULL ? sep - srv : (long)strlen(srv)),
			 srv);
		action_name(s->actions, "mcp-server", server, hs, sizeof(hs));
		action_name(s->actions, "mcp-tool", sep != NULL ? sep + 2 : "", ht, sizeof(ht));
		snprintf(tool_name, sizeof(tool_name), "mcp__%s__%s", hs, ht);
		snprintf(target, sizeof(target), "%s", hs);
		c.mcp_pr = sep != NULL && shell_mcp_creates_pr(sep + 2);
		c.kind = c.mcp_pr ? ACTION_PULL_REQUEST : ACTION_MCP;
	} else if (builtin_name(name)) {
		memcpy(tool_name, name, strlen(name) + 1); /* name[256] fits tool_name[300] */
	} else {
		action_name(s->actions, "tool", name, tool_name, sizeof(tool_name));
	}
	if (strcmp(name, "Edit") == 0) {
		c.kind = ACTION_EDIT;
		str_trim(d, in[I_OLD], in[I_NEW], &c.prop_added, &c.prop_removed);
		ext_of(d, in[I_PATH], c.file_ext);
	} else if (strcmp(name, "MultiEdit") == 0) {
		int edits = in[I_EDITS];
		c.kind = ACTION_EDIT;
		for (int e = json_next(d, edits, -1); e >= 0; e = json_next(d, edits, e)) {
			int oe[2];
			json_get_many(d, e, in_keys, 2, oe); /* old_string, new_string */
			str_trim(d, oe[I_OLD], oe[I_NEW], &c.prop_added, &c.prop_removed);
		}
		ext_of(d, in[I_PATH], c.file_ext);
	} else if (strcmp(name, "NotebookEdit") == 0) {
		c.kind = ACTION_EDIT;
		if (!json_str_eq(d, in[I_MODE], "delete")) {
			c.prop_added = str_lines(d, in[I_SOURCE]);
		}
		ext_of(d, in[I_NB_PATH], c.file_ext);
	} else if (strcmp(name, "Write") == 0) {
		c.kind = ACTION_WRITE;
		c.prop_added = str_lines(d, in[I_CONTENT]);
		ext_of(d, in[I_PATH], c.file_ext);
	} else if (strcmp(name, "Bash") == 0) {
		size_t n = 0;
		const char *raw = json_str_raw(d, in[I_COMMAND], &n);
		/* a command plainly without git, gh or glab is not split (nor copied):
		 * the raw text holds no JSON escape then, so it is the command */
		char *cmd = raw != NULL && !shell_plainly_none(raw, n)
				    ? json_str_dup(d, in[I_COMMAND], &n)
				    : NULL;
		struct shell_facts f;
		c.kind = ACTION_SHELL;
		if (cmd != NULL && shell_script(cmd, n, &f) == 0) {
			c.shell_commit = f.commit;
			c.shell_pr = f.pull_request;
			c.kind = f.pull_request ? ACTION_PULL_REQUEST : f.commit ? ACTION_COMMIT : ACTION_SHELL;
			shell_facts_finish(&f);
		}
		free(cmd);
		c.background = json_is_true(d, in[I_BACKGROUND]);
	} else if (strcmp(name, "Task") == 0 || strcmp(name, "Agent") == 0) {
		c.kind = ACTION_SUBAGENT;
		if (json_str(d, in[I_SUBAGENT], sub, sizeof(sub)) > 0) {
			if (builtin_agent(sub)) {
				snprintf(target, sizeof(target), "%s", sub);
			} else {
				action_name(s->actions, "agent", sub, target, sizeof(target));
			}
		}
	} else if (strcmp(name, "Skill") == 0) {
		c.kind = ACTION_SKILL;
		if (json_str(d, in[I_SKILL], sub, sizeof(sub)) > 0 ||
		    json_str(d, in[I_COMMAND], sub, sizeof(sub)) > 0) {
			action_name(s->actions, "skill", sub, target, sizeof(target));
		}
	} else if (strcmp(name, "WebSearch") == 0 || strcmp(name, "WebFetch") == 0) {
		c.kind = ACTION_WEB;
	}
	(void)action_add_call(s->actions, &c); /* out of memory: the action is missing, usage goes on */
}

static bool
starts(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

/* C.3 on one result; content and is_error are the block's members. */
static enum action_decision
claude_decision(const struct json_doc *d, int content, int is_error_t, int tur, int denial)
{
	static const char *const unknown_prefixes[] = {
		"[Request interrupted by user", "[Tool call did not complete:",
		"[Tool call interrupted:", "[Tool call skipped:", "[Tool call not completed:",
		"[Tool call result not in this copy:",
		"The user doesn't want to take this action right now.",
	};
	char dk[64], text[128];
	bool is_error = json_is_true(d, is_error_t);

	int dn = json_str(d, denial, dk, sizeof(dk));
	if (dn > 0 || dn == -ENAMETOOLONG) {
		return strcmp(dk, "interrupted") == 0 || strcmp(dk, "cancelled") == 0 ? ACTION_UNKNOWN
										       : ACTION_REJECTED;
	}
	if (json_str_eq(d, tur, "User rejected tool use")) {
		return ACTION_REJECTED;
	}
	if (is_error) {
		/* the text: content as a string, else its first text item */
		int t = content;
		if (json_type(d, content) == JSON_ARRAY) {
			t = -1;
			for (int e = json_next(d, content, -1); e >= 0; e = json_next(d, content, e)) {
				if (json_str_eq(d, json_get(d, e, "type"), "text")) {
					t = json_get(d, e, "text");
					break;
				}
			}
		}
		/* the prefixes below are all that is looked at: the output is not copied */
		(void)json_str_prefix(d, t, text, sizeof(text));
		for (size_t i = 0; i < sizeof(unknown_prefixes) / sizeof(unknown_prefixes[0]); i++) {
			if (starts(text, unknown_prefixes[i])) {
				return ACTION_UNKNOWN;
			}
		}
		if (starts(text, "The user doesn't want to proceed with this tool use.")) {
			return ACTION_REJECTED;
		}
		return ACTION_ERROR;
	}
	if (json_type(d, tur) == JSON_OBJECT && json_is_true(d, json_get(d, tur, "interrupted"))) {
		return ACTION_ERROR;
	}
	return ACTION_ACCEPTED;
}

/* F.3 on a structuredPatch array. */
static void
hunks(const struct json_doc *d, int arr, uint32_t *added, uint32_t *removed)
{
	for (int h = json_next(d, arr, -1); h >= 0; h = json_next(d, arr, h)) {
		int lines = json_get(d, h, "lines");
		for (int l = json_next(d, lines, -1); l >= 0; l = json_next(d, lines, l)) {
			int c = json_str_first(d, l);
			*added += c == '+';
			*removed += c == '-';
		}
	}
}

/* The applied lines toolUseResult states (C.4); false when it states none. */
static bool
applied(const struct json_doc *d, int tur, uint32_t *added, uint32_t *removed)
{
	int sp = json_get(d, tur, "structuredPatch");
	char mode[16];

	if (json_type(d, tur) != JSON_OBJECT) {
		return false;
	}
	if (json_str_eq(d, json_get(d, tur, "type"), "create") &&
	    json_type(d, json_get(d, tur, "content")) == JSON_STRING) {
		*added = str_lines(d, json_get(d, tur, "content"));
		return true;
	}
	if (json_type(d, sp) == JSON_ARRAY) {
		hunks(d, sp, added, removed);
		return true;
	}
	if (json_str(d, json_get(d, tur, "edit_mode"), mode, sizeof(mode)) > 0) {
		if (strcmp(mode, "replace") == 0) {
			str_trim(d, json_get(d, tur, "old_source"), json_get(d, tur, "new_source"), added,
				 removed);
		} else if (strcmp(mode, "insert") == 0) {
			*added = str_lines(d, json_get(d, tur, "new_source"));
		} else if (strcmp(mode, "delete") == 0) {
			*removed = str_lines(d, json_get(d, tur, "old_source"));
		}
		return true;
	}
	return false;
}

bool
action_claude_has_tools(const struct json_doc *d, int content, bool assistant)
{
	const char *want = assistant ? "tool_use" : "tool_result";

	for (int b = json_next(d, content, -1); b >= 0; b = json_next(d, content, b)) {
		if (json_str_eq(d, json_get(d, b, "type"), want)) {
			return true;
		}
	}
	return false;
}

void
action_claude_line(struct scan *s, const struct source_file *file, const struct json_doc *d,
		   const int *root, int content, const char *session, int64_t ts, const char *project)
{
	enum { T_TYPE, T_ID, T_CONTENT, T_IS_ERROR, T_MAX };
	static const char *const blk_keys[T_MAX] = {"type", "tool_use_id", "content", "is_error"};
	const int *r = root; /* the root's members, found by claude_line_parse */
	int n_results = 0;
	char ts_s[64], cwd[4096];
	bool assistant;

	if (s->actions == NULL || json_type(d, content) != JSON_ARRAY) {
		return;
	}
	assistant = json_str_eq(d, r[CLAUDE_R_TYPE], "assistant");
	if (ts == 0 && (json_str(d, r[CLAUDE_R_TIMESTAMP], ts_s, sizeof(ts_s)) < 0 ||
			event_ts_parse(ts_s, &ts) < 0)) {
		return;
	}
	if (assistant) {
		for (int b = json_next(d, content, -1); b >= 0; b = json_next(d, content, b)) {
			if (!json_str_eq(d, json_get(d, b, "type"), "tool_use")) {
				continue;
			}
			if (project == NULL) {
				if (json_str(d, r[CLAUDE_R_CWD], cwd, sizeof(cwd)) < 0) {
					cwd[0] = '\0';
				}
				project = project_label(s->project, NULL, cwd, file->owned);
			}
			claude_call(s, file, d, b, ts, session, project,
				    json_is_true(d, r[CLAUDE_R_SIDECHAIN]));
		}
		return;
	}
	for (int b = json_next(d, content, -1); b >= 0; b = json_next(d, content, b)) {
		n_results += json_str_eq(d, json_get(d, b, "type"), "tool_result");
	}
	for (int b = json_next(d, content, -1); b >= 0; b = json_next(d, content, b)) {
		char key[256];
		int t[T_MAX];
		struct action_result res;
		json_get_many(d, b, blk_keys, T_MAX, t);
		if (!json_str_eq(d, t[T_TYPE], "tool_result") ||
		    json_str(d, t[T_ID], key, sizeof(key)) <= 0) {
			continue;
		}
		/* the line's toolUseResult belongs to its only result */
		int tur = n_results == 1 ? r[CLAUDE_R_TOOL_USE_RESULT] : -1;
		int denial = n_results == 1 ? r[CLAUDE_R_DENIAL] : -1;
		memset(&res, 0, sizeof(res));
		res.tool = EVENT_TOOL_CLAUDE;
		res.key = key;
		res.ts_ms = ts;
		res.what = ACTION_RES_CLAUDE;
		res.decision = claude_decision(d, t[T_CONTENT], t[T_IS_ERROR], tur, denial);
		res.has_applied = applied(d, tur, &res.applied_added, &res.applied_removed);
		res.background = json_type(d, tur) == JSON_OBJECT &&
				 !json_is_null(d, json_get(d, tur, "backgroundTaskId"));
		(void)action_add_result(s->actions, &res);
	}
}
