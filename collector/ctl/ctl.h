/*
 * ctl.h: what the aimeterctl commands share: options, the database
 * connection, file reading and the synchronous write path.
 *
 * Exit codes: CTL_OK (input processed, even with rejects), CTL_FAIL (nothing
 * applied, or a failure), CTL_USAGE (bad command line).
 */
#ifndef AM_CTL_H
#define AM_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "identity.h"

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

/* Common options every command accepts. */
struct ctl_opts {
	const char *db;       /* conninfo, or NULL for PG* variables */
	const char *key_file; /* person-key file, or NULL for AIMETER_PERSON_KEY_FILE */
};

/*
 * ctl_connect(opts): a connection, or NULL after printing why. As root with
 * neither --db nor PG* connection variables: the local socket as the
 * postgres user (peer authentication), database aimeter.
 */
PGconn *ctl_connect(const struct ctl_opts *opts);

/* ctl_connect_to(opts, dbname): the same, to database dbname (NULL: the default). */
PGconn *ctl_connect_to(const struct ctl_opts *opts, const char *dbname);

/* ctl_exec(conn, sql): run a command; prints the error and returns -1 on failure. */
int ctl_exec(PGconn *conn, const char *sql);

/*
 * ctl_query(conn, sql, nparams, params): run a query with text parameters;
 * returns the result (caller frees with PQclear) or NULL after printing why.
 */
PGresult *ctl_query(PGconn *conn, const char *sql, int nparams, const char *const *params);

/*
 * ctl_secret_new(prefix, ret, size, ret_hash_hex): a new bearer secret, the
 * prefix then 264 random bits in base64url, and its SHA-256 in hex (what the
 * database keeps). Returns 0, or -1 after printing why.
 */
int ctl_secret_new(const char *prefix, char *ret, size_t size, char ret_hash_hex[65]);

/* ctl_copy(conn, sql, data, len): COPY ... FROM STDIN with data. Returns 0 or -1. */
int ctl_copy(PGconn *conn, const char *sql, const char *data, size_t len);

/*
 * ctl_read_file(path, ret_buf, ret_len): read a whole file ("-" is stdin);
 * *ret_buf is malloc'd, NUL-terminated, owned by the caller. Returns 0 or -1
 * after printing why.
 */
int ctl_read_file(const char *path, char **ret_buf, size_t *ret_len);

/*
 * ctl_person_key(opts, ret_key, ret_len): load the person key from
 * --person-key-file or AIMETER_PERSON_KEY_FILE. ret_key holds 256 bytes.
 * Returns 0 or -1 after printing why.
 */
int ctl_person_key(const struct ctl_opts *opts, uint8_t *ret_key, size_t *ret_len);

/* ctl_common_option(opts, c, arg): handle --db/--person-key-file; true if it did. */
bool ctl_common_option(struct ctl_opts *opts, int c, const char *arg);

#define CTL_OPT_DB 1000
#define CTL_OPT_KEY 1001
#define CTL_COMMON_LONGOPTS                                                                       \
	{ "db", required_argument, NULL, CTL_OPT_DB },                                            \
	{ "person-key-file", required_argument, NULL, CTL_OPT_KEY },                              \
	{ "help", no_argument, NULL, 'h' }

#define CTL_COMMON_HELP                                                                           \
	"  --db CONNINFO           database (default: libpq's PG* variables)\n"                   \
	"  --person-key-file FILE  person-key file (default: $AIMETER_PERSON_KEY_FILE)\n"         \
	"  -h, --help              show this help\n"

int cmd_migrate(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_directory(int argc, char **argv);
int cmd_prices(int argc, char **argv);
int cmd_fx(int argc, char **argv); /* cmd-fx.c (issue 16) */
int cmd_report(int argc, char **argv);
int cmd_reattribute(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_device(int argc, char **argv); /* device.c (collector) */

/* cmd-enroll-token.c, cmd-init.c (issue 8) */
int cmd_enroll_token(int argc, char **argv);
int cmd_init(int argc, char **argv);

/* cmd-otlp-token.c (issue 15): bearer tokens of OTLP senders. */
int cmd_otlp_token(int argc, char **argv);

/* cmd-billing.c, cmd-billing-pull.c (issue 16): reconciliation with vendor billing. */
int cmd_billing(int argc, char **argv);
int cmd_report_variance(int argc, char **argv);
int billing_pull(int argc, char **argv);
/* cmd-reprice.c, cmd-rate.c (issue 16): repricing and negotiated rates. */
int cmd_reprice(int argc, char **argv);
int cmd_rate(int argc, char **argv);

/*
 * ctl_enroll_token_create(conn, expires_s, team, label, ret_secret, size,
 * ret_id, id_size): make an enrollment secret, store only its SHA-256 in
 * aimeter.enrollment_secrets, valid for expires_s seconds (0: no expiry),
 * for team (NULL: none). ret_secret gets the secret (at least 64 bytes),
 * ret_id its short id (hash prefix, at least 16 bytes). Returns 0 or -1
 * after printing why.
 */
int ctl_enroll_token_create(PGconn *conn, long long expires_s, const char *team, const char *label,
			    char *ret_secret, size_t size, char *ret_id, size_t id_size);

#endif
