/* config.c: INI configuration through inih; see config.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "secret-file.h"

enum opt_type {
	OPT_STRING,
	OPT_LISTEN, /* a string where "" and "off" mean none (NULL) */
	OPT_UINT,
	OPT_BOOL,
	OPT_TYPE_MAX
};

struct option {
	const char *key; /* "section.name"; the table is sorted by it for bsearch */
	enum opt_type type;
	const char *def;
	size_t offset;
	uint64_t min, max;
	const char *help;
};

#define OFF(f) offsetof(struct config, f)

static const struct option options[] = {
	{ "database.conninfo", OPT_STRING, NULL, OFF(conninfo), 0, 0,
	  "libpq connection string; empty: the PG* environment variables" },
	{ "database.device_cache_ms", OPT_UINT, "30000", OFF(device_cache_ms), 0, 3600000,
	  "how long a device token lookup is cached (revocation delay)" },
	{ "database.group_max_batches", OPT_UINT, "8", OFF(group_max_batches), 1, 64,
	  "small concurrent batches written in one transaction" },
	{ "database.group_max_events", OPT_UINT, "1000", OFF(group_max_events), 1, 1000000,
	  "events in one grouped transaction (a larger batch still goes alone)" },
	{ "database.max_pending_batches", OPT_UINT, "64", OFF(max_pending_batches), 1, 100000,
	  "batches waiting for a connection before 429" },
	{ "database.pool_size", OPT_UINT, "3", OFF(db_pool_size), 1, 16,
	  "PostgreSQL connections" },
	{ "database.timeout_ms", OPT_UINT, "60000", OFF(db_timeout_ms), 100, 3600000,
	  "longest a request waits for the database before 503" },
	{ "enrollment.secret_file", OPT_STRING, NULL, OFF(enrollment_secret_file), 0, 0,
	  "file holding the organisation enrollment secret (mode 0600)" },
	{ "identity.person_key_file", OPT_STRING, NULL, OFF(person_key_file), 0, 0,
	  "person-key file for identity hashing (mode 0600)" },
	{ "limits.body_timeout_ms", OPT_UINT, "30000", OFF(body_timeout_ms), 10, 3600000,
	  "time to receive a body after its headers" },
	{ "limits.connection_lifetime_ms", OPT_UINT, "600000", OFF(connection_lifetime_ms), 1000,
	  86400000, "longest a client connection stays open, busy or not" },
	{ "limits.header_timeout_ms", OPT_UINT, "10000", OFF(header_timeout_ms), 10, 3600000,
	  "time to receive headers (and the TLS handshake) from the first byte" },
	{ "limits.idle_timeout_ms", OPT_UINT, "60000", OFF(idle_timeout_ms), 10, 3600000,
	  "keep-alive idle time between requests" },
	{ "limits.max_body_bytes", OPT_UINT, "4194304", OFF(max_body_bytes), 64, 1u << 30,
	  "largest request body (compressed)" },
	{ "limits.max_connections", OPT_UINT, "1024", OFF(max_connections), 1, 1000000,
	  "open client connections" },
	{ "limits.max_connections_per_address", OPT_UINT, "128",
	  OFF(max_connections_per_address), 1, 1000000,
	  "TLS connections from one IPv4 address or IPv6 /64 (plain: exempt)" },
	{ "limits.max_events", OPT_UINT, "10000", OFF(max_events), 1, 1000000,
	  "events in one batch" },
	{ "limits.max_header_bytes", OPT_UINT, "16384", OFF(max_header_bytes), 256, 1u << 20,
	  "request line plus headers" },
	{ "limits.shutdown_timeout_ms", OPT_UINT, "10000", OFF(shutdown_timeout_ms), 10, 3600000,
	  "longest SIGTERM waits for in-flight work" },
	{ "limits.write_stall_timeout_ms", OPT_UINT, "15000", OFF(write_stall_timeout_ms), 10,
	  3600000, "a client that takes none of its queued responses for this long is closed" },
	{ "listen.metrics", OPT_LISTEN, "127.0.0.1:9464", OFF(listen_metrics), 0, 0,
	  "plaintext listener for GET /metrics, host:port; empty or \"off\": none" },
	{ "listen.plain", OPT_STRING, NULL, OFF(listen_plain), 0, 0,
	  "plaintext HTTP listener host:port (behind a TLS proxy)" },
	{ "listen.reuseport", OPT_BOOL, "true", OFF(reuseport), 0, 0,
	  "SO_REUSEPORT, so several collectors share a port" },
	{ "listen.tls", OPT_STRING, NULL, OFF(listen_tls), 0, 0, "HTTPS listener host:port" },
	{ "log.level", OPT_STRING, "info", OFF(log_level), 0, 0, "error, warn, info or debug" },
	{ "tls.cert_file", OPT_STRING, NULL, OFF(tls_cert_file), 0, 0,
	  "PEM certificate chain (reloaded on SIGHUP)" },
	{ "tls.key_file", OPT_STRING, NULL, OFF(tls_key_file), 0, 0,
	  "PEM private key (reloaded on SIGHUP)" },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static int
option_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct option *)elem)->key);
}

static const struct option *
option_find(const char *key)
{
	return bsearch(key, options, N_OPTIONS, sizeof(options[0]), option_cmp);
}

/* Sets one option from text; on error writes a message and returns -EINVAL. */
static int
option_apply(struct config *cfg, const struct option *o, const char *value, char *err,
	     size_t errsz)
{
	char *field = (char *)cfg + o->offset;

	switch (o->type) {
	case OPT_STRING:
	case OPT_LISTEN: {
		char *copy = NULL;
		bool none = value == NULL || value[0] == '\0' ||
			    (o->type == OPT_LISTEN && strcasecmp(value, "off") == 0);
		if (!none) {
			copy = strdup(value);
			if (copy == NULL) {
				snprintf(err, errsz, "out of memory");
				return -ENOMEM;
			}
		}
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case OPT_UINT: {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(value, &end, 10);
		if (value[0] == '\0' || value[0] == '-' || *end != '\0' || errno != 0) {
			snprintf(err, errsz, "invalid number \"%s\" for %s", value, o->key);
			return -EINVAL;
		}
		if (v < o->min || v > o->max) {
			snprintf(err, errsz, "%s must be between %llu and %llu, not %llu", o->key,
				 (unsigned long long)o->min, (unsigned long long)o->max, v);
			return -EINVAL;
		}
		*(uint64_t *)field = v;
		return 0;
	}
	case OPT_BOOL:
		if (strcasecmp(value, "true") == 0 || strcasecmp(value, "yes") == 0 ||
		    strcmp(value, "1") == 0 || strcasecmp(value, "on") == 0) {
			*(bool *)field = true;
		} else if (strcasecmp(value, "false") == 0 || strcasecmp(value, "no") == 0 ||
			   strcmp(value, "0") == 0 || strcasecmp(value, "off") == 0) {
			*(bool *)field = false;
		} else {
			snprintf(err, errsz, "invalid boolean \"%s\" for %s", value, o->key);
			return -EINVAL;
		}
		return 0;
	case OPT_TYPE_MAX:
		break;
	}
	snprintf(err, errsz, "bad option type");
	return -EINVAL;
}

struct config *
config_create(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	char err[160];

	if (cfg == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (options[i].def != NULL &&
		    option_apply(cfg, &options[i], options[i].def, err, sizeof(err)) < 0) {
			config_destroy(cfg);
			errno = ENOMEM;
			return NULL;
		}
	}
	return cfg;
}

void
config_destroy(struct config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (options[i].type == OPT_STRING || options[i].type == OPT_LISTEN) {
			free(*(char **)((char *)cfg + options[i].offset));
		}
	}
	free(cfg);
}

int
config_set(struct config *cfg, const char *key, const char *value, const char *origin)
{
	const struct option *o = option_find(key);
	char err[256];
	int r;

	if (o == NULL) {
		log_warnx("%s: unknown configuration key \"%s\"", origin, key);
		return -EINVAL;
	}
	r = option_apply(cfg, o, value, err, sizeof(err));
	if (r < 0) {
		log_warnx("%s: %s", origin, err);
	}
	return r;
}

/* inih reads through this, so every handler call knows its line number. */
struct parse_state {
	struct config *cfg;
	const char *name;
	const char *buf;
	size_t len, pos;
	int line;
	int errors;
	int nomem;
};

static char *
parse_reader(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	size_t n = 0;

	if (ps->pos >= ps->len || num < 2) {
		return NULL;
	}
	while (ps->pos < ps->len && n < (size_t)num - 1) {
		char ch = ps->buf[ps->pos++];
		str[n++] = ch;
		if (ch == '\n') {
			break;
		}
	}
	str[n] = '\0';
	if (n > 0 && str[n - 1] == '\n') {
		ps->line++;
	} else if (ps->pos >= ps->len) {
		ps->line++; /* a last line without a newline */
	}
	return str;
}

static int
parse_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	char key[128], err[256];
	const struct option *o;

	if (name == NULL) {
		return 1; /* a section header alone */
	}
	if (snprintf(key, sizeof(key), "%s.%s", section, name) >= (int)sizeof(key) ||
	    (o = option_find(key)) == NULL) {
		log_warnx("%s:%d: unknown key \"%s\" in section [%s]", ps->name, ps->line, name,
			  section);
		ps->errors++;
		return 1;
	}
	if (option_apply(ps->cfg, o, value, err, sizeof(err)) < 0) {
		log_warnx("%s:%d: %s", ps->name, ps->line, err);
		ps->errors++;
	}
	return 1;
}

int
config_parse(struct config *cfg, const char *name, const char *buf, size_t len)
{
	struct parse_state ps = { .cfg = cfg, .name = name, .buf = buf, .len = len };
	int r;

	if (memchr(buf, '\0', len) != NULL) {
		log_warnx("%s: contains a NUL byte", name);
		return 1;
	}
	r = ini_parse_stream(parse_reader, &ps, parse_handler, &ps);
	if (r > 0) {
		/* inih reports the first syntax error; our own errors were counted. */
		log_warnx("%s:%d: syntax error (expected [section] or key = value)", name, r);
		ps.errors++;
	} else if (r < 0) {
		log_warnx("%s: could not parse configuration: out of memory", name);
		return -ENOMEM;
	}
	return ps.errors;
}

int
config_load(struct config *cfg, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	if (fd < 0) {
		r = -errno;
		log_warn("could not open configuration file \"%s\"", path);
		return r;
	}
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *grown;
			if (cap >= (1u << 20)) {
				log_warnx("configuration file \"%s\" is larger than 1 MiB", path);
				r = -EFBIG;
				goto fail;
			}
			cap = cap ? cap * 2 : 4096;
			grown = realloc(buf, cap);
			if (grown == NULL) {
				r = -ENOMEM;
				goto fail;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			r = -errno;
			log_warn("could not read configuration file \"%s\"", path);
			goto fail;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	r = config_parse(cfg, path, buf ? buf : "", len);
fail:
	free(buf);
	close(fd);
	return r;
}

int
config_check_secret_file(const char *path, char *ret_err, size_t err_size)
{
	return secret_file_check(path, "secret file", ret_err, err_size) < 0 ? -1 : 0;
}

int
config_check(const struct config *cfg, const char *name)
{
	int problems = 0;

	if (cfg->listen_tls == NULL && cfg->listen_plain == NULL) {
		log_warnx("%s: no listener: set [listen] tls or [listen] plain", name);
		problems++;
	}
	if (cfg->listen_tls != NULL && (cfg->tls_cert_file == NULL || cfg->tls_key_file == NULL)) {
		log_warnx("%s: [listen] tls needs [tls] cert_file and key_file", name);
		problems++;
	}
	if (cfg->person_key_file == NULL) {
		log_warnx("%s: [identity] person_key_file is required", name);
		problems++;
	}
	/* "level =" leaves NULL (an empty string option means none). */
	if (cfg->log_level == NULL ||
	    (strcmp(cfg->log_level, "error") != 0 && strcmp(cfg->log_level, "warn") != 0 &&
	     strcmp(cfg->log_level, "info") != 0 && strcmp(cfg->log_level, "debug") != 0)) {
		log_warnx("%s: [log] level must be error, warn, info or debug", name);
		problems++;
	}
	return problems;
}

void
config_usage(void *f)
{
	for (size_t i = 0; i < N_OPTIONS; i++) {
		fprintf(f, "  %-35s %s (default: %s)\n", options[i].key, options[i].help,
			options[i].def ? options[i].def : "none");
	}
}
