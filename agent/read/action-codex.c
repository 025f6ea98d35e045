/* action-codex.c: tool calls, outputs and end events in Codex rollouts; see action-read.h. */
#define _GNU_SOURCE /* memmem */
#include "action-read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action-lines.h"
#include "action-shell.h"
#include "action.h"
#include "scan.h"

static const char *const builtin_tools[] = {
	"shell", "container.exec", "shell_command", "exec_command", "write_stdin", "local_shell",
	"apply_patch", "update_plan", "view_image", "web_search", "spawn_agent",
	"spawn_agents_on_csv", "send_input", "wait_agent", "close_agent", "list_agents",
	"resume_agent", "request_user_input", "request_permissions",
};

static bool
builtin(const char *name)
{
	for (size_t i = 0; i < sizeof(builtin_tools) / sizeof(builtin_tools[0]); i++) {
		if (strcmp(name, builtin_tools[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* The patch's lines and first file's extension into c (F.3, F.4). */
static void
patch_call(struct action_call *c, const char *p, size_t n)
{
	const char *first;
	size_t first_n;

	c->cls = ACTION_CLASS_PATCH;
	c->kind = ACTION_EDIT;
	c->tool_name = "apply_patch";
	action_patch_lines(p, n, &c->prop_added, &c->prop_removed, &first, &first_n);
	if (first != NULL) {
		action_file_ext(first, first_n, c->file_ext);
	}
}

/* Section E's facts into c: a commit, a pull request, or a patch run through the shell. */
static void
shell_call(struct action_call *c, struct shell_facts *f)
{
	c->cls = ACTION_CLASS_SHELL;
	if (f->patch) {
		patch_call(c, f->patch_text != NULL ? f->patch_text : "", f->patch_len);
		return;
	}
	c->shell_commit = f->commit;
	c->shell_pr = f->pull_request;
	c->kind = f->pull_request ? ACTION_PULL_REQUEST : f->commit ? ACTION_COMMIT : ACTION_SHELL;
}

/* A command given as an argv array (token arr of doc d). */
static void
argv_call(struct action_call *c, const struct json_doc *d, int arr)
{
	const char *argv[64];
	size_t lens[64], n = 0;
	char *own[64];
	struct shell_facts f;

	for (int e = json_next(d, arr, -1); e >= 0 && n < 64; e = json_next(d, arr, e)) {
		if ((own[n] = json_str_dup(d, e, &lens[n])) == NULL) {
			break;
		}
		argv[n] = own[n];
		n++;
	}
	if (shell_argv(argv, lens, n, &f) == 0) {
		shell_call(c, &f);
		shell_facts_finish(&f);
	} else {
		c->cls = ACTION_CLASS_SHELL;
	}
	for (size_t i = 0; i < n; i++) {
		free(own[i]);
	}
}

/* A command given as a script (string token t of doc d). */
static void
script_call(struct action_call *c, const struct json_doc *d, int t)
{
	size_t n = 0;
	char *s = json_str_dup(d, t, &n);
	struct shell_facts f;

	c->cls = ACTION_CLASS_SHELL;
	if (s != NULL && shell_script(s, n, &f) == 0) {
		shell_call(c, &f);
		shell_facts_finish(&f);
	}
	free(s);
}

/* An MCP call: server and tool from the name, or from a namespace. */
static void
mcp_call(struct scan *s, struct action_call *c, const char *name, const char *ns, char *tool_name,
	 size_t tn_size, char *target, size_t t_size)
{
	char server[256], hs[64], ht[64];
	const char *tool;

	if (ns != NULL) {
		const char *srv = ns + 5;
		size_t sl = strlen(srv);
		if (sl >= 2 && strcmp(srv + sl - 2, "__") == 0) {
			sl -= 2;
		}
		snprintf(server, sizeof(server), "%.*s", (int)sl, srv);
		tool = name;
	} else {
		const char *n = strncmp(name, "mcp__", 5) == 0 ? name + 5 : name;
		const char *sep = strstr(n, "__");
		snprintf(server, sizeof(server), "%.*s", (int)(sep != NULL ? sep - n : (long)strlen(n)), n);
		tool = sep != NULL ? sep + 2 : "";
	}
	action_name(s->actions, "mcp-server", server, hs, sizeof(hs));
	action_name(s->actions, "mcp-tool", tool, ht, sizeof(ht));
	snprintf(tool_name, tn_size, "mcp__%s__%s", hs, ht);
	snprintf(target, t_size, "%s", hs);
	c->cls = ACTION_CLASS_MCP;
	c->mcp_pr = shell_mcp_creates_pr(tool);
	c->kind = c->mcp_pr ? ACTION_PULL_REQUEST : ACTION_MCP;
}

/* A function_call: arguments is a string holding JSON, parsed into the table's second doc. */
static void
function_call(struct scan *s, const struct json_doc *d, int p, struct action_call *c,
	      const char *name, char *tool_name, size_t tn_size, char *target, size_t t_size)
{
	struct json_doc *a = &s->actions->args;
	size_t an = 0;
	char *args = json_str_dup(d, json_get(d, p, "arguments"), &an);
	bool parsed = args != NULL && json_parse(a, args, an) == 0 && json_type(a, 0) == JSON_OBJECT;
	char ns[256];

	if (json_str(d, json_get(d, p, "namespace"), ns, sizeof(ns)) < 0) {
		ns[0] = '\0';
	}
	if (strcmp(name, "apply_patch") == 0) {
		size_t n = 0;
		char *patch = parsed ? json_str_dup(a, json_get(a, 0, "input"), &n) : NULL;
		patch_call(c, patch != NULL ? patch : "", n);
		free(patch);
	} else if (strcmp(name, "shell") == 0 || strcmp(name, "container.exec") == 0 ||
		   strcmp(name, "shell_command") == 0 || strcmp(name, "exec_command") == 0) {
		int cmd = parsed ? json_get(a, 0, strcmp(name, "exec_command") == 0 ? "cmd" : "command")
				 : -1;
		if (json_type(a, cmd) == JSON_ARRAY) {
			argv_call(c, a, cmd);
		} else {
			script_call(c, a, cmd);
		}
	} else if (strncmp(ns, "mcp__", 5) == 0) {
		mcp_call(s, c, name, ns, tool_name, tn_size, target, t_size);
	} else if (strncmp(name, "mcp__", 5) == 0 || (strstr(name, "__") != NULL && !builtin(name))) {
		mcp_call(s, c, name, NULL, tool_name, tn_size, target, t_size);
	} else if (strcmp(name, "spawn_agent") == 0 || strcmp(name, "spawn_agents_on_csv") == 0) {
		char type[256];
		c->kind = ACTION_SUBAGENT;
		if (parsed && json_str(a, json_get(a, 0, "agent_type"), type, sizeof(type)) > 0) {
			action_name(s->actions, "agent", type, target, t_size);
		}
	}
	free(args);
}

/*
 * Codex 0.169 and later wrap the automatic reviewer's denial in the spawn
 * error: `exec_command failed: CreateProcess { message: "Rejected(\"This
 * action was rejected due to unacceptable risk. ...`. Only that wrapper, near
 * the start, counts: a command's own output that quotes the sentence does not.
 */
static bool
reviewer_rejected(const char *b, size_t n)
{
	static const char head[] = "exec_command failed:";
	static const char verdict[] = "Rejected(";
	static const char reason[] = "This action was rejected due to unacceptable risk.";
	size_t window = n < 200 ? n : 200;
	const char *v;

	if (n < sizeof(head) - 1 || memcmp(b, head, sizeof(head) - 1) != 0 ||
	    (v = memmem(b, window, verdict, sizeof(verdict) - 1)) == NULL) {
		return false;
	}
	return memmem(v, window - (size_t)(v - b), reason, sizeof(reason) - 1) != NULL;
}

/* D.4: the exit code and header facts of an output text. */
static void
output_facts(struct scan *s, const char *text, size_t n, struct action_output *o)
{
	static const char *const rejected[] = {"exec command rejected by user",
					       "patch rejected by user",
					       "This action was rejected due to unacceptable risk."};
	struct json_doc *a = &s->actions->args;
	const char *b = text, *e = text + n, *body;
	size_t body_n;
	char *json_body = NULL;

	memset(o, 0, sizeof(*o));
	while (b < e && (*b == ' ' || *b == '\n' || *b == '\t' || *b == '\r')) {
		b++;
	}
	while (e > b && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t' || e[-1] == '\r')) {
		e--;
	}
	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		size_t k = strlen(rejected[i]);
		if ((size_t)(e - b) >= k && memcmp(b, rejected[i], k) == 0) {
			o->rejected = true;
			return;
		}
	}
	if (reviewer_rejected(b, (size_t)(e - b))) {
		o->rejected = true;
		return;
	}
	if (e - b == 7 && memcmp(b, "aborted", 7) == 0) {
		o->aborted = true;
		return;
	}
	body = text;
	body_n = n;
	if (b < e && *b == '{' && json_parse(a, b, (size_t)(n - (size_t)(b - text))) == 0 &&
	    json_type(a, 0) == JSON_OBJECT && json_type(a, json_get(a, 0, "metadata")) == JSON_OBJECT) {
		int md = json_get(a, 0, "metadata");
		int ec = json_get(a, md, "exit_code");
		if (json_type(a, ec) != JSON_PRIMITIVE) {
			ec = json_get(a, md, "shell_exit_code");
		}
		if (json_type(a, ec) == JSON_PRIMITIVE) {
			uint64_t v;
			if (json_u64(a, ec, &v) == 1) {
				o->exit_known = true;
				o->exit_code = (int64_t)v;
			} else if (!json_is_null(a, ec) && !json_is_true(a, ec)) {
				o->exit_known = true; /* negative: not zero */
				o->exit_code = -1;
			}
		}
		json_body = json_str_dup(a, json_get(a, 0, "output"), &body_n);
		body = json_body != NULL ? json_body : "";
		if (json_body == NULL) {
			body_n = 0;
		}
	} else {
		/* a line "Output:" ends the header */
		const char *p = text, *end = text + n;
		const char *out = NULL;
		while (p < end) {
			const char *lf = memchr(p, '\n', (size_t)(end - p));
			size_t len = (size_t)((lf != NULL ? lf : end) - p);
			if (len == 7 && memcmp(p, "Output:", 7) == 0) {
				out = p;
				body = lf != NULL ? lf + 1 : end;
				body_n = (size_t)(end - body);
				break;
			}
			p = lf != NULL ? lf + 1 : end;
		}
		for (p = text; out != NULL && p < out;) {
			const char *lf = memchr(p, '\n', (size_t)(out - p));
			const char *le = lf != NULL ? lf : out;
			char line[128];
			long long v;
			while (p < le && *p == ' ') {
				p++;
			}
			snprintf(line, sizeof(line), "%.*s", (int)(le - p), p);
			if (!o->exit_known && (sscanf(line, "Exit code: %lld", &v) == 1 ||
					       sscanf(line, "Process exited with code %lld", &v) == 1 ||
					       sscanf(line, "Shell exit code: %lld", &v) == 1)) {
				o->exit_known = true;
				o->exit_code = v;
			}
			if (strncmp(line, "Process running with session ID", 31) == 0) {
				o->running = true;
			}
			p = lf != NULL ? lf + 1 : out;
		}
	}
	o->success_text = body_n >= 37 && memcmp(body, "Success. Updated the following files:", 37) == 0;
	free(json_body);
}

/* An output item's text: a string, text items joined with LF, or an object's content. */
static char *
output_text(const struct json_doc *d, int out, size_t *ret_n)
{
	if (json_type(d, out) == JSON_STRING) {
		return json_str_dup(d, out, ret_n);
	}
	if (json_type(d, out) == JSON_OBJECT) {
		return json_str_dup(d, json_get(d, out, "content"), ret_n);
	}
	if (json_type(d, out) == JSON_ARRAY) {
		size_t total = 0, n;
		char *acc = NULL;
		for (int e = json_next(d, out, -1); e >= 0; e = json_next(d, out, e)) {
			char *t = json_str_dup(d, json_get(d, e, "text"), &n);
			if (t == NULL) {
				continue;
			}
			char *g = realloc(acc, total + n + 2);
			if (g == NULL) {
				free(t);
				break;
			}
			acc = g;
			if (total > 0) {
				acc[total++] = '\n';
			}
			memcpy(acc + total, t, n);
			total += n;
			acc[total] = '\0';
			free(t);
		}
		*ret_n = total;
		return acc;
	}
	return NULL;
}

/* Lines of the files a change map deletes (their content is the old file). */
static uint32_t
deleted_lines(const struct json_doc *d, int changes)
{
	uint32_t total = 0;

	for (int k = json_next_key(d, changes, -1); k >= 0; k = json_next_key(d, changes, k)) {
		if (json_str_eq(d, json_get(d, k + 1, "type"), "delete")) {
			size_t n = 0;
			char *c = json_str_dup(d, json_get(d, k + 1, "content"), &n);
			total += c != NULL ? action_lines(c, n) : 0;
			free(c);
		}
	}
	return total;
}

/* An event_msg end event. */
static void
end_event(struct scan *s, const struct json_doc *d, int p, int64_t ts, const char *key)
{
	struct action_result r;
	int status = json_get(d, p, "status");

	memset(&r, 0, sizeof(r));
	r.tool = EVENT_TOOL_CODEX;
	r.key = key;
	r.ts_ms = ts;
	r.declined = json_str_eq(d, status, "declined");
	if (json_str_eq(d, json_get(d, p, "type"), "exec_command_end")) {
		int ec = json_get(d, p, "exit_code");
		uint64_t v;
		r.what = ACTION_RES_EXEC_END;
		if (json_u64(d, ec, &v) == 1) {
			r.exit_known = true;
			r.exit_code = (int64_t)v;
		} else if (json_type(d, ec) == JSON_PRIMITIVE && !json_is_null(d, ec)) {
			r.exit_known = true;
			r.exit_code = -1;
		}
	} else if (json_str_eq(d, json_get(d, p, "type"), "patch_apply_end")) {
		int ch = json_get(d, p, "changes");
		r.what = ACTION_RES_PATCH_END;
		r.success = json_is_true(d, json_get(d, p, "success"));
		r.deleted_lines = deleted_lines(d, ch);
	} else {
		int res = json_get(d, p, "result");
		int ok = json_get(d, res, "Ok");
		r.what = ACTION_RES_MCP_END;
		r.error = json_get(d, res, "Err") >= 0 || json_is_true(d, json_get(d, ok, "isError")) ||
			  json_is_true(d, json_get(d, ok, "is_error"));
	}
	(void)action_add_result(s->actions, &r);
}

/*
 * Codex 0.169 and later write no patch_apply_end in `codex exec`; the applied
 * patch arrives as an item_completed FileChange (id = the call id), the only
 * place holding a deleted file's lines. It is read as the patch's end event.
 */
static void
file_change_item(struct scan *s, const struct json_doc *d, int item, int64_t ts)
{
	char key[256];
	struct action_result r;
	int status = json_get(d, item, "status");

	if (json_type(d, item) != JSON_OBJECT ||
	    !json_str_eq(d, json_get(d, item, "type"), "FileChange") ||
	    json_str(d, json_get(d, item, "id"), key, sizeof(key)) <= 0 ||
	    !(json_str_eq(d, status, "completed") || json_str_eq(d, status, "failed") ||
	      json_str_eq(d, status, "declined"))) {
		return;
	}
	memset(&r, 0, sizeof(r));
	r.tool = EVENT_TOOL_CODEX;
	r.key = key;
	r.ts_ms = ts;
	r.what = ACTION_RES_PATCH_END;
	r.success = json_str_eq(d, status, "completed");
	r.declined = json_str_eq(d, status, "declined");
	r.deleted_lines = deleted_lines(d, json_get(d, item, "changes"));
	(void)action_add_result(s->actions, &r);
}

/* A call item of a response_item payload p. */
static void
call_item(struct scan *s, const struct json_doc *d, int p, const char *ptype, int64_t ts,
	  const char *ts_s, struct codex_file *cx, const char *label, uint16_t origin)
{
	char key[256], name[256], tool_name[300], target[256];
	struct action_call c;

	memset(&c, 0, sizeof(c));
	c.tool = EVENT_TOOL_CODEX;
	c.key = key;
	c.ts_ms = ts;
	c.session = cx->session;
	c.project = label;
	c.origin = origin;
	c.subagent = cx->subagent;
	c.kind = ACTION_OTHER;
	c.cls = ACTION_CLASS_OTHER;
	c.tool_name = tool_name;
	c.target = target;
	tool_name[0] = target[0] = '\0';
	if (strcmp(ptype, "web_search_call") == 0) {
		/* no id: the line's timestamp and its rank among this file's items of that time */
		if (strncmp(cx->ws_ts, ts_s, sizeof(cx->ws_ts) - 1) != 0) {
			snprintf(cx->ws_ts, sizeof(cx->ws_ts), "%.39s", ts_s);
			cx->ws_n = 0;
		}
		snprintf(key, sizeof(key), "web_search_call@%s#%u", ts_s, cx->ws_n++);
		c.kind = ACTION_WEB;
		c.cls = ACTION_CLASS_WEB;
		snprintf(tool_name, sizeof(tool_name), "web_search");
		int st = json_get(d, p, "status");
		c.web = json_str_eq(d, st, "completed") ? ACTION_ACCEPTED
			: json_str_eq(d, st, "failed")  ? ACTION_ERROR
							: ACTION_UNKNOWN;
		goto add;
	}
	if (json_str(d, json_get(d, p, "call_id"), key, sizeof(key)) <= 0 ||
	    action_merge_copy(s->actions, EVENT_TOOL_CODEX, key, ts, cx->subagent, cx->session) != 0) {
		return; /* a copy of a known call (archived, forked) is not read again */
	}
	if (strcmp(ptype, "local_shell_call") == 0) {
		argv_call(&c, d, json_path(d, p, "action", "command", NULL));
		snprintf(tool_name, sizeof(tool_name), "%s",
			 c.cls == ACTION_CLASS_PATCH ? "apply_patch" : "local_shell");
		goto add;
	}
	if (json_str(d, json_get(d, p, "name"), name, sizeof(name)) < 0) {
		return;
	}
	if (builtin(name)) {
		snprintf(tool_name, sizeof(tool_name), "%s", name);
	} else {
		action_name(s->actions, "tool", name, tool_name, sizeof(tool_name));
	}
	if (strcmp(ptype, "custom_tool_call") == 0) {
		if (strcmp(name, "apply_patch") == 0) {
			size_t n = 0;
			char *patch = json_str_dup(d, json_get(d, p, "input"), &n);
			patch_call(&c, patch != NULL ? patch : "", n);
			free(patch);
		}
	} else {
		function_call(s, d, p, &c, name, tool_name, sizeof(tool_name), target, sizeof(target));
		if (c.cls == ACTION_CLASS_PATCH) {
			snprintf(tool_name, sizeof(tool_name), "apply_patch");
		}
	}
add:
	(void)action_add_call(s->actions, &c);
}

void
action_codex_line(struct scan *s, const struct source_file *file, const struct json_doc *d,
		  struct codex_file *cx, const char *label)
{
	char ts_s[64], ptype[64], key[256];
	int64_t ts;
	int p = json_get(d, 0, "payload"), t = json_get(d, 0, "type");

	if (s->actions == NULL || json_type(d, p) != JSON_OBJECT ||
	    json_str(d, json_get(d, 0, "timestamp"), ts_s, sizeof(ts_s)) < 0 ||
	    event_ts_parse(ts_s, &ts) < 0 ||
	    json_str(d, json_get(d, p, "type"), ptype, sizeof(ptype)) < 0) {
		return;
	}
	if (json_str_eq(d, t, "response_item")) {
		if (strcmp(ptype, "function_call") == 0 || strcmp(ptype, "custom_tool_call") == 0 ||
		    strcmp(ptype, "local_shell_call") == 0 || strcmp(ptype, "web_search_call") == 0) {
			call_item(s, d, p, ptype, ts, ts_s, cx, label, file->origin);
		} else if ((strcmp(ptype, "function_call_output") == 0 ||
			    strcmp(ptype, "custom_tool_call_output") == 0) &&
			   json_str(d, json_get(d, p, "call_id"), key, sizeof(key)) > 0) {
			struct action_result r;
			size_t n = 0;
			char *text = output_text(d, json_get(d, p, "output"), &n);
			memset(&r, 0, sizeof(r));
			r.tool = EVENT_TOOL_CODEX;
			r.key = key;
			r.ts_ms = ts;
			r.what = ACTION_RES_OUTPUT;
			output_facts(s, text != NULL ? text : "", text != NULL ? n : 0, &r.out);
			free(text);
			(void)action_add_result(s->actions, &r);
		}
	} else if (json_str_eq(d, t, "event_msg") && strcmp(ptype, "item_completed") == 0) {
		file_change_item(s, d, json_get(d, p, "item"), ts);
	} else if (json_str_eq(d, t, "event_msg") &&
		   (strcmp(ptype, "exec_command_end") == 0 || strcmp(ptype, "patch_apply_end") == 0 ||
		    strcmp(ptype, "mcp_tool_call_end") == 0) &&
		   json_str(d, json_get(d, p, "call_id"), key, sizeof(key)) > 0) {
		end_event(s, d, p, ts, key);
	}
}
