/*
 * project.h: the project label of a working directory or repository.
 *
 * keyed-hash (default): HMAC-SHA-256 with the organisation's project key
 * over the repository's remote URL with credentials stripped, else over the
 * working directory; the first 16 bytes in hex. The same repository gets
 * the same label on every machine, and no path can be read back out of it.
 * basename: the last path element of the remote (without .git) or of the
 * directory. git-remote: the stripped remote URL, else "". none: "".
 * Remotes come from the repository's git config ([remote "origin"] url,
 * else the first remote), found by walking up from the directory.
 */
#ifndef AM_AGENT_PROJECT_H
#define AM_AGENT_PROJECT_H

#include <stddef.h>
#include <stdint.h>

#include "owned.h"

enum project_policy {
	PROJECT_KEYED_HASH,
	PROJECT_BASENAME,
	PROJECT_GIT_REMOTE,
	PROJECT_NONE,
	PROJECT_POLICY_MAX
};

#define PROJECT_LABEL_MAX 1024
/*
 * The collector refuses a whole batch holding a string over 256 bytes
 * (proto/batch.c max_string), so a label (a long remote URL or directory
 * name under the plain policies) is cut to this, at a UTF-8 boundary.
 */
#define PROJECT_LABEL_WIRE_MAX 256

struct project_cache_entry;

struct project {
	enum project_policy policy;
	uint8_t key[256];
	size_t key_len;
	struct project_cache_entry **slots; /* cwd -> label */
	size_t n_slots, n;
	const struct project_cache_entry *last; /* the entry found last, or NULL */
	int64_t last_user;                      /* its strict owner's uid, or -1 */
};

/* project_init(p, policy, key, key_len): key is copied (at most 256 bytes). */
void project_init(struct project *p, enum project_policy policy, const uint8_t *key,
		  size_t key_len);

/* project_finish(p): free the cache; accepts a zeroed struct. */
void project_finish(struct project *p);

/* project_policy_parse(s, ret): "keyed-hash", "basename", "git-remote", "none". 0 or -EINVAL. */
int project_policy_parse(const char *s, enum project_policy *ret);

/*
 * project_label(p, remote, cwd, o): the label for a session whose repository
 * remote is remote (may be NULL or "": then looked up from cwd's git
 * config) and whose working directory is cwd. o (NULL: anyone's): in
 * all-users mode cwd comes from a user's own log, so the git files read for
 * it must belong to that user (o->uid), or a user could label their events
 * with another user's repository. Returns a string owned by p (valid until
 * finish), "" when there is nothing to label.
 */
const char *project_label(struct project *p, const char *remote, const char *cwd,
			  const struct owned *o);

/* project_strip_credentials(url, ret_buf, size): drop "user:password@" from a URL. */
void project_strip_credentials(const char *url, char *ret_buf, size_t size);

/*
 * project_git_remote(dir, o, ret_buf, size): the remote of the repository
 * holding dir, from git files that o allows (NULL: any). 0 or -ENOENT.
 */
int project_git_remote(const char *dir, const struct owned *o, char *ret_buf, size_t size);

/*
 * project_key_load_or_create(path, ret_key, ret_len): read a key file (0600,
 * 32 to 256 bytes); create it with 32 random bytes when missing. 0 or -errno.
 */
int project_key_load_or_create(const char *path, uint8_t *ret_key, size_t *ret_len);

#endif
