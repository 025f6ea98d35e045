/*
 * config.h: the collector's configuration: an INI file (through inih) plus
 * command-line overrides, parsed into a plain struct.
 */
#ifndef AM_COLLECTOR_CONFIG_H
#define AM_COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config {
	char *conninfo;               /* [database] conninfo; NULL: the PG* variables */
	uint64_t db_pool_size;        /* [database] pool_size */
	uint64_t max_pending_batches; /* [database] max_pending_batches */
	uint64_t group_max_batches;   /* [database] group_max_batches */
	uint64_t group_max_events;    /* [database] group_max_events */
	uint64_t device_cache_ms;     /* [database] device_cache_ms */
	uint64_t db_timeout_ms;       /* [database] timeout_ms: one request's DB work */
	char *listen_tls;             /* [listen] tls, "host:port" */
	char *listen_plain;           /* [listen] plain, "host:port" */
	char *listen_metrics;         /* [listen] metrics, "host:port"; NULL: off */
	bool reuseport;               /* [listen] reuseport */
	char *tls_cert_file;          /* [tls] cert_file */
	char *tls_key_file;           /* [tls] key_file */
	char *enrollment_secret_file; /* [enrollment] secret_file */
	char *person_key_file;        /* [identity] person_key_file */
	uint64_t max_connections;     /* [limits] ... */
	uint64_t max_connections_per_address;
	uint64_t max_header_bytes;
	uint64_t max_body_bytes;
	uint64_t max_events;
	uint64_t header_timeout_ms;
	uint64_t body_timeout_ms;
	uint64_t idle_timeout_ms;
	uint64_t write_stall_timeout_ms;
	uint64_t connection_lifetime_ms;
	uint64_t shutdown_timeout_ms;
	char *log_level;              /* [log] level: error, warn, info, debug */
};

/*
 * config_create():
 * A configuration holding every default. Returns NULL (errno set) on
 * allocation failure; free with config_destroy.
 */
struct config *config_create(void);

/* config_destroy(cfg): free cfg and its strings; NULL is fine. */
void config_destroy(struct config *cfg);

/*
 * config_parse(cfg, name, buf, len):
 * Apply the INI text buf (len bytes, not necessarily NUL-terminated) to cfg.
 * Every error is logged as "name:line: message"; all are reported, not only
 * the first. Returns the number of errors (0 on success) or -ENOMEM.
 */
int config_parse(struct config *cfg, const char *name, const char *buf, size_t len);

/*
 * config_load(cfg, path): read the file at path and config_parse it.
 * Returns the number of errors, or a negative errno when the file cannot
 * be read (logged).
 */
int config_load(struct config *cfg, const char *path);

/*
 * config_set(cfg, key, value, origin):
 * Set one option by its "section.key" name, as a command-line override.
 * Errors are logged prefixed by origin. Returns 0 or -EINVAL.
 */
int config_set(struct config *cfg, const char *key, const char *value, const char *origin);

/*
 * config_check(cfg, name): cross-field checks after every source is applied
 * (a listener, TLS files for the TLS listener, the person key). Logs each
 * problem; returns the number of problems.
 */
int config_check(const struct config *cfg, const char *name);

/* config_usage(f): print every key with its default and help. */
void config_usage(void *f);

/*
 * config_check_secret_file(path, ret_err, err_size): refuse a secret-bearing
 * file that group or others may read (relayd check_file_secrecy). Returns 0,
 * or -1 with a message in ret_err that names the file and its mode.
 */
int config_check_secret_file(const char *path, char *ret_err, size_t err_size);

#endif
