/*
 * roots.h: the roots of every source, found one way for every command.
 *
 * Per user, per source: the command line's directories if any were given
 * (then only those), else the configuration's, else the tool's own
 * variable (CLAUDE_CONFIG_DIR, CODEX_HOME), else the defaults under the
 * home directory ($XDG_CONFIG_HOME honoured). In all-users mode every
 * home in the password database is read; another user's environment is
 * not theirs, so only the home defaults apply to them, and their roots are
 * read under the ownership rule (scan_root_own). Each root gets its
 * origin: the user (or the fixed identity, or the tool's account) and the
 * billing mode its source reads beside it.
 */
#ifndef AM_AGENT_ROOTS_H
#define AM_AGENT_ROOTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "scan.h"

#define ROOTS_MAX 1024
#define ROOTS_CLI_MAX 64

struct roots_options {
	const char *dirs[EVENT_TOOL_MAX][ROOTS_CLI_MAX]; /* from the command line */
	size_t n_dirs[EVENT_TOOL_MAX];
	bool all_users;   /* --all-users */
	const char *user; /* --user: the identity reported */
};

/*
 * roots_collect(cfg, opt, s, ret_roots, ret_n): the roots, their origins
 * registered in s. opt may be NULL (the daemon). *ret_roots is malloc'd
 * (the caller frees it). 0 or a negative errno.
 */
int roots_collect(const struct agent_config *cfg, const struct roots_options *opt, struct scan *s,
		  struct scan_root **ret_roots, size_t *ret_n);

#endif
