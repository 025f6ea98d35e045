/* project.c: project labels; see project.h. */
#include "project.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"
#include "identity.h"
#include "digest.h"

struct project_cache_entry {
	char *key; /* remote + '\n' + cwd */
	char *label;
};

void
project_init(struct project *p, enum project_policy policy, const uint8_t *key, size_t key_len)
{
	memset(p, 0, sizeof(*p));
	p->policy = policy;
	if (key_len > sizeof(p->key)) {
		key_len = sizeof(p->key);
	}
	if (key != NULL) {
		memcpy(p->key, key, key_len);
		p->key_len = key_len;
	}
}

void
project_finish(struct project *p)
{
	if (p == NULL) {
		return;
	}
	for (size_t i = 0; i < p->n_slots; i++) {
		if (p->slots[i] != NULL) {
			free(p->slots[i]->key);
			free(p->slots[i]->label);
			free(p->slots[i]);
		}
	}
	free(p->slots);
	memset(p->key, 0, sizeof(p->key));
	p->slots = NULL;
	p->last = NULL;
	p->n_slots = p->n = 0;
}

int
project_policy_parse(const char *s, enum project_policy *ret)
{
	static const char *const names[PROJECT_POLICY_MAX] = {"keyed-hash", "basename", "git-remote",
							       "none"};
	for (int i = 0; i < PROJECT_POLICY_MAX; i++) {
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum project_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

void
project_strip_credentials(const char *url, char *ret_buf, size_t size)
{
	const char *scheme = strstr(url, "://");

	if (scheme != NULL) {
		const char *host = scheme + 3;
		const char *slash = strchr(host, '/');
		const char *at = NULL;
		/* userinfo ends at the last '@' before the path */
		for (const char *q = host; *q != '\0' && (slash == NULL || q < slash); q++) {
			if (*q == '@') {
				at = q;
			}
		}
		if (at != NULL) {
			snprintf(ret_buf, size, "%.*s%s", (int)(host - url), url, at + 1);
			return;
		}
	}
	snprintf(ret_buf, size, "%s", url);
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t') {
		s++;
	}
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) {
		*--e = '\0';
	}
	return s;
}

/* The url of [remote "origin"], else of the first remote, from a git config file. */
static int
config_remote(const char *path, const struct owned *o, char *ret_buf, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[2048];
	bool in_remote = false, in_origin = false, have_first = false;
	int r = -ENOENT;

	if (f == NULL) {
		return -errno;
	}
	if (o != NULL && owned_check(o, fileno(f)) < 0) {
		fclose(f);
		return -EPERM;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line);
		if (s[0] == '[') {
			in_remote = strncmp(s, "[remote ", 8) == 0;
			in_origin = strcmp(s, "[remote \"origin\"]") == 0;
			continue;
		}
		if (!in_remote || strncmp(s, "url", 3) != 0) {
			continue;
		}
		char *eq = strchr(s, '=');
		if (eq == NULL || trim(s + 3)[0] != '=') {
			continue;
		}
		char *v = trim(eq + 1);
		if (in_origin) {
			snprintf(ret_buf, size, "%s", v);
			r = 0;
			break;
		}
		if (!have_first) {
			snprintf(ret_buf, size, "%s", v);
			have_first = true;
			r = 0;
		}
	}
	fclose(f);
	return r;
}

int
project_git_remote(const char *dir, const struct owned *o, char *ret_buf, size_t size)
{
	char cur[4096], path[4200];

	if (dir == NULL || dir[0] != '/' || strlen(dir) >= sizeof(cur)) {
		return -ENOENT;
	}
	snprintf(cur, sizeof(cur), "%s", dir);
	for (;;) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/.git", strcmp(cur, "/") == 0 ? "" : cur);
		if (stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				snprintf(path, sizeof(path), "%s/.git/config",
					 strcmp(cur, "/") == 0 ? "" : cur);
				return config_remote(path, o, ret_buf, size);
			}
			/* A worktree or submodule: ".git" names the git dir. */
			FILE *f = fopen(path, "re");
			char line[4096];
			if (f != NULL && (o == NULL || owned_check(o, fileno(f)) == 0) &&
			    fgets(line, sizeof(line), f) != NULL &&
			    strncmp(line, "gitdir:", 7) == 0) {
				char *g = trim(line + 7), common[4200];
				fclose(f);
				if (g[0] != '/') {
					return -ENOENT;
				}
				/* worktrees keep the config in the common dir */
				snprintf(common, sizeof(common), "%s/../../config", g);
				snprintf(path, sizeof(path), "%s/config", g);
				if (config_remote(path, o, ret_buf, size) == 0) {
					return 0;
				}
				return config_remote(common, o, ret_buf, size);
			}
			if (f != NULL) {
				fclose(f);
			}
			return -ENOENT;
		}
		char *slash = strrchr(cur, '/');
		if (slash == NULL || slash == cur) {
			if (strcmp(cur, "/") == 0) {
				return -ENOENT;
			}
			strcpy(cur, "/");
			continue;
		}
		*slash = '\0';
	}
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	}
	return h;
}

static void
basename_of(const char *s, char *ret_buf, size_t size)
{
	size_t n = strlen(s);
	const char *b;

	while (n > 1 && s[n - 1] == '/') {
		n--;
	}
	b = s + n;
	while (b > s && b[-1] != '/' && b[-1] != ':') {
		b--;
	}
	size_t bl = (size_t)(s + n - b);
	if (bl > 4 && memcmp(b + bl - 4, ".git", 4) == 0) {
		bl -= 4;
	}
	snprintf(ret_buf, size, "%.*s", (int)bl, b);
}

/* Cut s to PROJECT_LABEL_WIRE_MAX bytes without splitting a UTF-8 sequence. */
static void
cut_to_wire(char *s)
{
	size_t n = strlen(s);

	if (n <= PROJECT_LABEL_WIRE_MAX) {
		return;
	}
	n = PROJECT_LABEL_WIRE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
		n--; /* s[n] continues a sequence: cut before the sequence starts */
	}
	s[n] = '\0';
}

static void
compute(struct project *p, const char *remote, const char *cwd, const struct owned *o, char *ret,
	size_t size)
{
	char found[2048], stripped[2048];
	const char *subject;
	uint8_t mac[DIGEST_SHA256_SIZE];

	ret[0] = '\0';
	if (p->policy == PROJECT_NONE) {
		return;
	}
	if ((remote == NULL || remote[0] == '\0') && cwd != NULL && cwd[0] != '\0' &&
	    project_git_remote(cwd, o, found, sizeof(found)) == 0) {
		remote = found;
	}
	stripped[0] = '\0';
	if (remote != NULL && remote[0] != '\0') {
		project_strip_credentials(remote, stripped, sizeof(stripped));
	}
	subject = stripped[0] != '\0' ? stripped : cwd;
	if (subject == NULL || subject[0] == '\0') {
		return;
	}
	switch (p->policy) {
	case PROJECT_BASENAME:
		basename_of(subject, ret, size);
		cut_to_wire(ret);
		return;
	case PROJECT_GIT_REMOTE:
		snprintf(ret, size, "%s", stripped);
		cut_to_wire(ret);
		return;
	default:
		break;
	}
	if (size < 33) {
		return;
	}
	digest_hmac_sha256(p->key, p->key_len, subject, strlen(subject), mac);
	hex_encode(mac, 16, ret);
}

/* Whether s starts with prefix; *s moves past it when it does. */
static bool
skip_prefix(const char **s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(*s, prefix, n) != 0) {
		return false;
	}
	*s += n;
	return true;
}

/* Whether cache key k (user, remote, cwd) has this remote and cwd. */
static bool
key_matches(const char *k, const char *remote, const char *cwd)
{
	k = strchr(k, '\n');
	return k != NULL && skip_prefix(&k, "\n") && skip_prefix(&k, remote) &&
	       skip_prefix(&k, "\n") && strcmp(k, cwd) == 0;
}

static void
remember(struct project *p, const struct project_cache_entry *e, const struct owned *o)
{
	p->last = e;
	p->last_user = o != NULL ? (int64_t)o->uid : -1;
}

const char *
project_label(struct project *p, const char *remote, const char *cwd, const struct owned *o)
{
	char key[4200], label[PROJECT_LABEL_MAX];
	size_t j;
	struct project_cache_entry *e;

	if (o != NULL && !o->strict) {
		o = NULL;
	}
	remote = remote ? remote : "";
	cwd = cwd ? cwd : "";
	/* the records of one session repeat its directory: most calls end here */
	if (p->last != NULL && p->last_user == (o != NULL ? (int64_t)o->uid : -1) &&
	    key_matches(p->last->key, remote, cwd)) {
		return p->last->label;
	}
	/* strict: cached per user, as the git files it may read differ */
	snprintf(key, sizeof(key), "%s%u\n%s\n%s", o != NULL ? "u" : "",
		 o != NULL ? (unsigned)o->uid : 0, remote, cwd);
	if ((p->n + 1) * 2 > p->n_slots) {
		size_t n_slots = p->n_slots ? p->n_slots * 2 : 64;
		struct project_cache_entry **slots = calloc(n_slots, sizeof(*slots));
		if (slots == NULL) {
			return "";
		}
		for (size_t i = 0; i < p->n_slots; i++) {
			if (p->slots[i] != NULL) {
				size_t k = hash_str(p->slots[i]->key) & (n_slots - 1);
				while (slots[k] != NULL) {
					k = (k + 1) & (n_slots - 1);
				}
				slots[k] = p->slots[i];
			}
		}
		free(p->slots);
		p->slots = slots;
		p->n_slots = n_slots;
	}
	j = hash_str(key) & (p->n_slots - 1);
	while (p->slots[j] != NULL) {
		if (strcmp(p->slots[j]->key, key) == 0) {
			remember(p, p->slots[j], o);
			return p->last->label;
		}
		j = (j + 1) & (p->n_slots - 1);
	}
	compute(p, remote, cwd, o, label, sizeof(label));
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(key)) == NULL || (e->label = strdup(label)) == NULL) {
		if (e != NULL) {
			free(e->key);
		}
		free(e);
		return "";
	}
	p->slots[j] = e;
	p->n++;
	remember(p, e, o);
	return e->label;
}

int
project_key_load_or_create(const char *path, uint8_t *ret_key, size_t *ret_len)
{
	char err[256];
	uint8_t key[32];
	int fd;

	if (identity_key_load(path, ret_key, ret_len, err, sizeof(err)) == 0) {
		return 0;
	}
	if (access(path, F_OK) == 0) {
		return -EACCES; /* exists but refused (mode, size): never overwrite it */
	}
	/* getrandom(2) gives up to 256 bytes whole once the pool is ready; it may wait for that */
	ssize_t got;
	while ((got = getrandom(key, sizeof(key), 0)) < 0 && errno == EINTR) {
	}
	if (got != (ssize_t)sizeof(key)) {
		return got < 0 ? -errno : -EIO;
	}
	/*
	 * Written whole under a private name, then linked into place: the daemon
	 * and a `scan` starting together must never read a created, still empty
	 * key. The loser of the link race uses the winner's key.
	 */
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid()) >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	/* Hex so that the file is printable and has no newline problems. */
	char hex[65];
	hex_encode(key, 32, hex);
	if (write(fd, hex, 64) != 64 || fsync(fd) < 0) {
		int e = errno ? errno : EIO;
		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (link(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		if (e == EEXIST) {
			return identity_key_load(path, ret_key, ret_len, err, sizeof(err)) == 0 ?
				       0 :
				       -EACCES;
		}
		return -e;
	}
	unlink(tmp);
	memcpy(ret_key, hex, 64);
	*ret_len = 64;
	return 0;
}
