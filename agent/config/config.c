/* config.c: the agent's configuration keys over inih; see config.h. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "log.h"
#include "source.h"

enum opt_type { OPT_STR, OPT_BOOL, OPT_UINT, OPT_BYTES, OPT_IDENTITY, OPT_LABEL, OPT_TYPE_MAX };

struct opt {
	const char *section;
	const char *key;
	const char *env;
	enum opt_type type;
	size_t offset;
	size_t size; /* OPT_STR buffer size */
	uint64_t max;
	const char *help;
};

#define STR(f) OPT_STR, offsetof(struct agent_config, f), sizeof(((struct agent_config *)0)->f), 0
#define NUM(t, f, m) t, offsetof(struct agent_config, f), 0, m

/*
 * Sorted by section then key: looked up with bsearch. Each source adds
 * "[sources] <key>_dirs" (AIMETER_<KEY>_DIRS): see source_dirs_of.
 */
static const struct opt opts[] = {
	{"actions", "allowlist", "AIMETER_ACTIONS_ALLOWLIST", STR(action_allowlist),
	 "MCP servers and tools, skills, sub-agents named in clear (comma-separated)"},
	{"actions", "settle_seconds", "AIMETER_ACTIONS_SETTLE_SECONDS",
	 NUM(OPT_UINT, action_settle_seconds, 86400),
	 "quiet time before a tool call without a result is shipped as unknown"},
	{"actions", "ship", "AIMETER_ACTIONS_SHIP", NUM(OPT_BOOL, ship_actions, 0),
	 "the daemon reads and ships action records"},
	{"agent", "settle_seconds", "AIMETER_SETTLE_SECONDS", NUM(OPT_UINT, settle_seconds, 86400),
	 "quiet time before a Claude response is final"},
	{"agent", "state_dir", "AIMETER_STATE_DIR", STR(state_dir), "offsets, pending responses, spool"},
	{"identity", "cost_center_hint", "AIMETER_COST_CENTER_HINT", STR(cost_center_hint),
	 "cost-centre hint"},
	{"identity", "policy", "AIMETER_IDENTITY_POLICY", NUM(OPT_IDENTITY, identity_policy, 0),
	 "os-user, tool-account or fixed"},
	{"identity", "team_hint", "AIMETER_TEAM_HINT", STR(team_hint), "team hint sent with every event"},
	{"identity", "value", "AIMETER_IDENTITY", STR(identity), "identity for the fixed policy"},
	{"project", "key_file", "AIMETER_PROJECT_KEY_FILE", STR(project_key_file),
	 "project-label key"},
	{"project", "label_policy", "AIMETER_PROJECT_LABEL_POLICY", NUM(OPT_LABEL, label_policy, 0),
	 "keyed-hash, basename, git-remote or none"},
	{"server", "ca_file", "AIMETER_CA_FILE", STR(ca_file), "extra CA bundle"},
	{"server", "enrollment_secret", "AIMETER_ENROLLMENT_SECRET", STR(enrollment_secret),
	 "enrollment secret inline"},
	{"server", "enrollment_secret_file", "AIMETER_ENROLLMENT_SECRET_FILE",
	 STR(enrollment_secret_file), "file holding the enrollment secret"},
	{"server", "pin", "AIMETER_PIN", STR(pin), "sha256//<base64> public-key pin"},
	{"server", "url", "AIMETER_SERVER_URL", STR(server_url), "collector base URL"},
	{"ship", "batch_age", "AIMETER_BATCH_AGE", NUM(OPT_UINT, batch_age, 86400),
	 "seconds before a partial batch is sent"},
	{"ship", "batch_events", "AIMETER_BATCH_EVENTS", NUM(OPT_UINT, batch_events, 100000),
	 "events per batch"},
	{"ship", "future_retry_seconds", "AIMETER_FUTURE_RETRY_SECONDS",
	 NUM(OPT_UINT, future_retry_seconds, 30 * 86400),
	 "seconds before events the collector found in the future are sent again"},
	{"sources", "all_users", "AIMETER_ALL_USERS", NUM(OPT_BOOL, all_users, 0),
	 "read every user's home (root only)"},
	{"spool", "max_bytes", "AIMETER_SPOOL_MAX_BYTES", NUM(OPT_BYTES, spool_max_bytes, 1ull << 40),
	 "spool cap (K, M, G suffixes)"},
};

struct opt_key {
	const char *section;
	const char *key;
};

static int
opt_cmp(const void *a, const void *b)
{
	const struct opt_key *k = a;
	const struct opt *o = b;
	int c = strcmp(k->section, o->section);

	return c != 0 ? c : strcmp(k->key, o->key);
}

void
config_defaults(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->identity_policy = IDENTITY_OS_USER;
	cfg->label_policy = PROJECT_KEYED_HASH;
	cfg->spool_max_bytes = 256ull << 20;
	cfg->batch_events = 1000;
	cfg->batch_age = 60;
	cfg->future_retry_seconds = 3600;
	cfg->settle_seconds = 30;
	cfg->action_settle_seconds = 1800; /* longer than Claude Code's 10-minute shell timeout */
	cfg->ship_actions = true;
}

static int
parse_uint(const char *v, uint64_t max, bool suffixes, uint64_t *ret)
{
	char *end;
	unsigned long long n;

	errno = 0;
	if (v[0] < '0' || v[0] > '9') {
		return -EINVAL;
	}
	n = strtoull(v, &end, 10);
	if (errno != 0) {
		return -EINVAL;
	}
	if (suffixes && *end != '\0' && end[1] == '\0') {
		unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
		if (shift == 0 || n > (UINT64_MAX >> shift)) {
			return -EINVAL;
		}
		n <<= shift;
		end++;
	}
	if (*end != '\0' || n > max) {
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

/* The source whose roots "[section] key" names ("[sources] codex_dirs"), or NULL. */
static const struct source_ops *
source_dirs_of(const char *section, const char *key)
{
	if (strcmp(section, "sources") != 0) {
		return NULL;
	}
	for (int t = 0; t < EVENT_TOOL_MAX; t++) {
		size_t n = strlen(source_table[t]->key);
		if (strncmp(key, source_table[t]->key, n) == 0 && strcmp(key + n, "_dirs") == 0) {
			return source_table[t];
		}
	}
	return NULL;
}

/* AIMETER_<KEY>_DIRS for src. */
static void
source_dirs_env(const struct source_ops *src, char *ret, size_t size)
{
	size_t n = (size_t)snprintf(ret, size, "AIMETER_%s_DIRS", src->key);

	for (size_t i = 0; i < n && i < size; i++) {
		ret[i] = (char)toupper((unsigned char)ret[i]);
	}
}

int
config_set(struct agent_config *cfg, const char *section, const char *key, const char *value,
	   char *ret_err, size_t err_size)
{
	struct opt_key k = {section, key};
	const struct opt *o = bsearch(&k, opts, sizeof(opts) / sizeof(opts[0]), sizeof(opts[0]),
				      opt_cmp);
	char *field;
	uint64_t n;

	const struct source_ops *src = source_dirs_of(section, key);
	if (o == NULL && src != NULL) {
		char *dirs = cfg->source_dirs[src->tool];
		if (strlen(value) >= sizeof(cfg->source_dirs[0])) {
			snprintf(ret_err, err_size, "value of \"%s\" is longer than %zu bytes", key,
				 sizeof(cfg->source_dirs[0]) - 1);
			return -EINVAL;
		}
		memcpy(dirs, value, strlen(value) + 1);
		return 0;
	}
	if (o == NULL) {
		snprintf(ret_err, err_size, "unknown key \"%s\" in section [%s]", key, section);
		return -ENOENT;
	}
	field = (char *)cfg + o->offset;
	switch (o->type) {
	case OPT_STR:
		if (strlen(value) >= o->size) {
			snprintf(ret_err, err_size, "value of \"%s\" is longer than %zu bytes", key,
				 o->size - 1);
			return -EINVAL;
		}
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case OPT_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0 || strcmp(value, "yes") == 0) {
			*(bool *)field = true;
		} else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
			   strcmp(value, "no") == 0) {
			*(bool *)field = false;
		} else {
			snprintf(ret_err, err_size, "\"%s\" is not a boolean (true or false)", key);
			return -EINVAL;
		}
		return 0;
	case OPT_UINT:
	case OPT_BYTES:
		if (parse_uint(value, o->max, o->type == OPT_BYTES, &n) < 0) {
			snprintf(ret_err, err_size, "\"%s\" must be a whole number from 0 to %llu%s",
				 key, (unsigned long long)o->max,
				 o->type == OPT_BYTES ? " (suffix K, M or G allowed)" : "");
			return -EINVAL;
		}
		*(uint64_t *)field = n;
		return 0;
	case OPT_IDENTITY:
		if (strcmp(value, "os-user") == 0) {
			cfg->identity_policy = IDENTITY_OS_USER;
		} else if (strcmp(value, "tool-account") == 0) {
			cfg->identity_policy = IDENTITY_TOOL_ACCOUNT;
		} else if (strcmp(value, "fixed") == 0) {
			cfg->identity_policy = IDENTITY_FIXED;
		} else {
			snprintf(ret_err, err_size,
				 "identity policy must be os-user, tool-account or fixed");
			return -EINVAL;
		}
		return 0;
	case OPT_LABEL:
		if (project_policy_parse(value, &cfg->label_policy) < 0) {
			snprintf(ret_err, err_size,
				 "label policy must be keyed-hash, basename, git-remote or none");
			return -EINVAL;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

struct parse_ctx {
	struct agent_config *cfg;
	const char *name;
	const char *buf;
	size_t len;
	int errors;
	bool has_secret;
};

/* The line of "key" under "[section]": inih does not pass line numbers. */
static unsigned
find_line(const struct parse_ctx *c, const char *section, const char *key)
{
	unsigned line = 1;
	bool in = section[0] == '\0';
	size_t kl = strlen(key);

	for (size_t i = 0; i < c->len;) {
		const char *s = c->buf + i, *e = memchr(s, '\n', c->len - i);
		size_t n = e ? (size_t)(e - s) : c->len - i;
		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		if (n > 0 && *s == '[') {
			in = n >= strlen(section) + 2 && strncmp(s + 1, section, strlen(section)) == 0 &&
			     s[1 + strlen(section)] == ']';
		} else if (in && n >= kl && strncmp(s, key, kl) == 0 &&
			   (n == kl || s[kl] == ' ' || s[kl] == '=' || s[kl] == ':' || s[kl] == '\t')) {
			return line;
		}
		if (e == NULL) {
			break;
		}
		i = (size_t)(e - c->buf) + 1;
		line++;
	}
	return 0;
}

static int
ini_cb(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	char err[256];

	if (strcmp(section, "server") == 0 && strcmp(name, "enrollment_secret") == 0) {
		c->has_secret = true;
	}
	if (config_set(c->cfg, section, name, value, err, sizeof(err)) < 0) {
		log_warnx("%s:%u: %s", c->name, find_line(c, section, name), err);
		c->errors++;
	}
	return 1; /* keep going: report every error, not the first */
}

int
config_parse(const char *buf, size_t len, const char *name, struct agent_config *cfg)
{
	struct parse_ctx c = {cfg, name, buf, len, 0, false};
	char *copy = malloc(len + 1);
	int r;

	if (copy == NULL) {
		log_warnx("%s: out of memory", name);
		return 1;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	if (strlen(copy) != len) {
		log_warnx("%s:%u: NUL byte in configuration", name, 1u);
		free(copy);
		return 1;
	}
	r = ini_parse_string(copy, ini_cb, &c);
	if (r > 0) {
		/* a syntax error (no '=', unclosed section, line over inih's limit) */
		log_warnx("%s:%d: syntax error", name, r);
		c.errors++;
	}
	free(copy);
	return c.errors;
}

static int
load_file(struct agent_config *cfg, const char *path, bool must_exist)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *buf;
	ssize_t n;
	int errors;

	if (fd < 0) {
		if (errno == ENOENT && !must_exist) {
			return 0;
		}
		log_warn("could not open configuration file \"%s\"", path);
		return 1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
		log_warnx("configuration file \"%s\" is not a regular file under 1 MiB", path);
		close(fd);
		return 1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return 1;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		log_warnx("could not read configuration file \"%s\"", path);
		free(buf);
		return 1;
	}
	buf[n] = '\0';
	errors = config_parse(buf, (size_t)n, path, cfg);
	/* A secret inline makes the file secret-bearing: refuse it if others can read it. */
	if (strstr(buf, "enrollment_secret") != NULL && cfg->enrollment_secret[0] != '\0' &&
	    (st.st_mode & 077) != 0) {
		log_warnx("%s: holds enrollment_secret but group or others can access it (mode %03o)",
			  path, (unsigned)(st.st_mode & 0777));
		memset(cfg->enrollment_secret, 0, sizeof(cfg->enrollment_secret));
		errors++;
	}
	free(buf);
	return errors;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
config_load(struct agent_config *cfg, const char *path, const char *dropin_dir)
{
	int errors = 0;
	DIR *d;

	if (path != NULL) {
		errors += load_file(cfg, path, false);
	}
	if (dropin_dir != NULL && (d = opendir(dropin_dir)) != NULL) {
		char *names[256];
		size_t n = 0;
		struct dirent *de;
		while ((de = readdir(d)) != NULL && n < 256) {
			size_t l = strlen(de->d_name);
			if (de->d_name[0] != '.' && l > 5 && strcmp(de->d_name + l - 5, ".conf") == 0) {
				names[n] = strdup(de->d_name);
				if (names[n] != NULL) {
					n++;
				}
			}
		}
		closedir(d);
		qsort(names, n, sizeof(names[0]), name_cmp);
		for (size_t i = 0; i < n; i++) {
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", dropin_dir, names[i]);
			errors += load_file(cfg, p, true);
			free(names[i]);
		}
	}
	return errors + config_env(cfg);
}

int
config_env(struct agent_config *cfg)
{
	int errors = 0;

	for (int t = 0; t < EVENT_TOOL_MAX; t++) {
		const char *v;
		char env[64], key[64], err[256];
		source_dirs_env(source_table[t], env, sizeof(env));
		snprintf(key, sizeof(key), "%s_dirs", source_table[t]->key);
		if ((v = getenv(env)) != NULL &&
		    config_set(cfg, "sources", key, v, err, sizeof(err)) < 0) {
			log_warnx("environment %s: %s", env, err);
			errors++;
		}
	}

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *v = getenv(opts[i].env);
		char err[256];
		if (v == NULL) {
			continue;
		}
		if (config_set(cfg, opts[i].section, opts[i].key, v, err, sizeof(err)) < 0) {
			log_warnx("environment %s: %s", opts[i].env, err);
			errors++;
		}
	}
	return errors;
}

void
config_resolve(struct agent_config *cfg, const char *home, bool is_root)
{
	if (cfg->state_dir[0] == '\0') {
		if (is_root) {
			snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/aimeter");
		} else {
			snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s/.local/state/aimeter",
				 home != NULL ? home : "");
		}
	}
	if (cfg->project_key_file[0] == '\0') {
		snprintf(cfg->project_key_file, sizeof(cfg->project_key_file), "%.900s/project.key",
			 cfg->state_dir);
	}
}

const char *
config_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && home[0] != '\0') {
		return home;
	}
	pw = getpwuid(geteuid());
	return pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : "/";
}

int
config_load_command(struct agent_config *cfg, const char *cli_path, const char *state_dir)
{
	const char *env = getenv("AIMETER_CONFIG");
	const char *path = cli_path != NULL ? cli_path
			   : env != NULL && env[0] != '\0' ? env
							    : CONFIG_PATH;
	int errors;

	config_defaults(cfg);
	/* -c names the one file to read; the drop-ins belong to the installed one */
	errors = config_load(cfg, path, cli_path != NULL ? NULL : CONFIG_DROPIN_DIR);
	if (state_dir != NULL) {
		snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", state_dir);
	}
	config_resolve(cfg, config_home(), geteuid() == 0);
	return errors;
}

const char *
config_source_dirs(const struct agent_config *cfg, enum event_tool tool)
{
	return (unsigned)tool < EVENT_TOOL_MAX ? cfg->source_dirs[tool] : NULL;
}

void
config_print(const struct agent_config *cfg, void *file)
{
	FILE *f = file;
	static const char *const ipol[] = {"os-user", "tool-account", "fixed"};
	static const char *const lpol[] = {"keyed-hash", "basename", "git-remote", "none"};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const struct opt *o = &opts[i];
		const char *field = (const char *)cfg + o->offset;
		fprintf(f, "[%s] %s = ", o->section, o->key);
		switch (o->type) {
		case OPT_STR:
			fprintf(f, "%s\n",
				strcmp(o->key, "enrollment_secret") == 0 && field[0] ? "(set)" : field);
			break;
		case OPT_BOOL:
			fprintf(f, "%s\n", *(const bool *)field ? "true" : "false");
			break;
		case OPT_UINT:
		case OPT_BYTES:
			fprintf(f, "%llu\n", (unsigned long long)*(const uint64_t *)field);
			break;
		case OPT_IDENTITY:
			fprintf(f, "%s\n", ipol[cfg->identity_policy]);
			break;
		case OPT_LABEL:
			fprintf(f, "%s\n", lpol[cfg->label_policy]);
			break;
		default:
			fprintf(f, "?\n");
		}
	}
	for (int t = 0; t < EVENT_TOOL_MAX; t++) {
		fprintf(f, "[sources] %s_dirs = %s\n", source_table[t]->key, cfg->source_dirs[t]);
	}
}

bool
config_can_read_all(void)
{
	bool ok = geteuid() == 0;
#ifdef __linux__
	char line[256];
	FILE *f;

	if (ok) {
		return true;
	}
	/*
	 * /proc rather than capget(2): no libcap, and the unit's system-call
	 * filter need not allow @capabilities. CAP_DAC_READ_SEARCH is bit 2.
	 */
	f = fopen("/proc/self/status", "re");
	if (f == NULL) {
		return false;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "CapEff:", 7) == 0) {
			char *end;
			unsigned long long caps = strtoull(line + 7, &end, 16);
			ok = end != line + 7 && (caps & (1ULL << 2)) != 0;
			break;
		}
	}
	fclose(f);
#endif
	return ok;
}
