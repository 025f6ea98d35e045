/*
 * action-shell.h: what a shell command did, as far as outcomes go: whether
 * one of its simple commands is a git commit or opens a pull (merge)
 * request, and whether it is Codex's apply_patch (docs/actions.md,
 * "Shell commands"). The script is split as a POSIX shell would (quotes,
 * escapes, $(...) and backquotes, comments, operators, redirections,
 * here-documents); nothing is run, nothing is kept.
 */
#ifndef AM_AGENT_ACTION_SHELL_H
#define AM_AGENT_ACTION_SHELL_H

#include <stdbool.h>
#include <stddef.h>

struct shell_facts {
	bool commit;       /* some simple command is `git ... commit` (not --dry-run/--help) */
	bool pull_request; /* `gh pr create` or `glab mr create` */
	bool patch;        /* the first simple command is apply_patch: patch is its text */
	char *patch_text;  /* malloc'd when patch (caller frees with shell_facts_finish) */
	size_t patch_len;
};

/* shell_script(s, n, ret): classify a script. 0 or -ENOMEM (*ret then says nothing). */
int shell_script(const char *s, size_t n, struct shell_facts *ret);

/*
 * shell_argv(argv, lens, n, ret): classify an argv array: a shell's -c
 * script (bash, sh, zsh, dash, ksh, fish; pwsh -Command; cmd /c), else the
 * words of one simple command. 0 or -ENOMEM.
 */
int shell_argv(const char *const *argv, const size_t *lens, size_t n, struct shell_facts *ret);

/*
 * shell_plainly_none(s, n): the script certainly holds no commit and no
 * pull request: no quote, escape or expansion could make a program name,
 * and neither "git", "gh" nor "glab" is in it. A cheap test before
 * shell_script; false says nothing.
 */
bool shell_plainly_none(const char *s, size_t n);

/* shell_facts_finish(f): free the patch text; accepts a zeroed struct. */
void shell_facts_finish(struct shell_facts *f);

/* shell_mcp_creates_pr(tool): an MCP tool name that opens a pull or merge request. */
bool shell_mcp_creates_pr(const char *tool);

#endif
