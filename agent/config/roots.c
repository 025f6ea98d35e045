/* roots.c: the roots of every source; see roots.h. */
#include "roots.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

struct roots {
	struct scan_root *v;
	size_t n, cap;
};

/* Split a comma-separated list into roots of one tool. */
static int
add_list(struct roots *r, enum event_tool tool, const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len > 0 && len < sizeof(r->v[0].path)) {
			if (r->n == ROOTS_MAX) {
				return 0; /* enough: the rest is not read */
			}
			if (r->n == r->cap) {
				size_t cap = r->cap ? r->cap * 2 : 8;
				struct scan_root *g = realloc(r->v, cap * sizeof(*g));
				if (g == NULL) {
					return -ENOMEM;
				}
				r->v = g;
				r->cap = cap;
			}
			struct scan_root *root = &r->v[r->n++];
			memset(root, 0, sizeof(*root));
			root->tool = tool;
			snprintf(root->path, sizeof(root->path), "%.*s", (int)len, p);
		}
		p += len + (e ? 1 : 0);
	}
	return 0;
}

static bool
cli_given(const struct roots_options *opt)
{
	for (int t = 0; opt != NULL && t < EVENT_TOOL_MAX; t++) {
		if (opt->n_dirs[t] > 0) {
			return true;
		}
	}
	return false;
}

/* The roots of one source for one user; env_ok: the environment is this user's. */
static int
source_roots(struct roots *r, const struct source_ops *src, const struct agent_config *cfg,
	     const struct roots_options *opt, const char *home, bool env_ok)
{
	const char *conf = config_source_dirs(cfg, src->tool);
	const char *e;
	char list[8192];
	int err = 0;

	if (cli_given(opt)) {
		for (size_t i = 0; i < opt->n_dirs[src->tool] && err == 0; i++) {
			err = add_list(r, src->tool, opt->dirs[src->tool][i]);
		}
		return err;
	}
	if (env_ok && conf != NULL && conf[0] != '\0') {
		return add_list(r, src->tool, conf);
	}
	if (env_ok && src->env != NULL && (e = getenv(src->env)) != NULL && e[0] != '\0') {
		return add_list(r, src->tool, e);
	}
	if (src->default_roots == NULL) {
		snprintf(list, sizeof(list), "%s/%s", home, src->home_dir);
		return add_list(r, src->tool, list);
	}
	e = src->xdg_env != NULL ? src->xdg_env : "XDG_CONFIG_HOME";
	src->default_roots(home, env_ok ? getenv(e) : NULL, list, sizeof(list));
	return add_list(r, src->tool, list);
}

/*
 * The roots of one user. own (all-users mode, else NULL): whose files they
 * must be; what lies below the home directory (or below a configured root
 * outside it) is opened under that rule, the home itself is trusted.
 */
static int
user_roots(struct roots *r, const struct agent_config *cfg, const struct roots_options *opt,
	   struct scan *s, const char *login, const char *home, bool env_ok,
	   const struct passwd *own)
{
	size_t first = r->n;
	int err;

	for (int t = 0; t < EVENT_TOOL_MAX; t++) {
		if ((err = source_roots(r, source_table[t], cfg, opt, home, env_ok)) < 0) {
			return err;
		}
	}
	for (size_t i = first; i < r->n; i++) {
		struct scan_root *root = &r->v[i];
		const struct source_ops *src = source_get(root->tool);
		const struct owned *own_rule = NULL;
		const char *who = login;
		char account[256];
		if (own != NULL) {
			scan_root_own(root, own->pw_uid, home);
			own_rule = &root->owned;
		}
		enum event_billing billing = src->billing(root->path, own_rule);
		if (opt != NULL && opt->user != NULL) {
			who = opt->user;
		} else if (cfg->identity_policy == IDENTITY_FIXED && cfg->identity[0] != '\0') {
			who = cfg->identity;
		} else if (cfg->identity_policy == IDENTITY_TOOL_ACCOUNT && src->account != NULL &&
			   src->account(root->path, own_rule, account, sizeof(account)) == 0) {
			who = account; /* that one field of the tool's own account file */
		}
		int o = scan_add_origin(s, who, billing);
		if (o < 0) {
			return o;
		}
		root->origin = (uint16_t)o;
	}
	return 0;
}

static int
all_users(struct roots *r, const struct agent_config *cfg, const struct roots_options *opt,
	  struct scan *s)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	int err = 0;

	setpwent();
	while (err == 0 && (pw = getpwent()) != NULL && r->n + EVENT_TOOL_MAX * 2 < ROOTS_MAX) {
		struct stat st;
		if (pw->pw_dir == NULL || pw->pw_dir[0] != '/' || strcmp(pw->pw_dir, "/") == 0 ||
		    stat(pw->pw_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			continue;
		}
		/* another user's environment is not ours: home defaults only */
		err = user_roots(r, cfg, opt, s, pw->pw_name, pw->pw_dir,
				 home != NULL && strcmp(pw->pw_dir, home) == 0, pw);
	}
	endpwent();
	return err;
}

int
roots_collect(const struct agent_config *cfg, const struct roots_options *opt, struct scan *s,
	      struct scan_root **ret_roots, size_t *ret_n)
{
	struct roots r = {0};
	struct passwd *pw;
	int err;

	if ((opt != NULL && opt->all_users) || (cfg->all_users && !cli_given(opt))) {
		if (config_can_read_all()) {
			err = all_users(&r, cfg, opt, s);
			goto out;
		}
		log_warnx("--all-users needs root or CAP_DAC_READ_SEARCH; reading only the "
			  "current user");
	}
	pw = getpwuid(geteuid());
	err = user_roots(&r, cfg, opt, s, pw != NULL ? pw->pw_name : "unknown", config_home(), true,
			 NULL);
out:
	if (err < 0) {
		free(r.v);
		return err;
	}
	*ret_roots = r.v;
	*ret_n = r.n;
	return 0;
}
