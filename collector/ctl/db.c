/* db.c: connection and file helpers for aimeterctl; see ctl.h. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static void
notice_cb(void *arg, const char *message)
{
	(void)arg;
	/* Server NOTICEs (e.g. "already exists, skipping") are noise here. */
	(void)message;
}

/*
 * As root with no --db and no PG* connection variables, connect as
 * `sudo -u postgres psql aimeter` would: the local socket as the postgres
 * user (peer authentication). Only the effective uid changes, only around
 * connect(), which is when the server reads the peer's credentials.
 */
static bool
local_admin(const struct ctl_opts *opts, uid_t *ret_uid)
{
	static const char *const vars[] = { "PGHOST", "PGHOSTADDR", "PGUSER", "PGDATABASE",
					    "PGSERVICE" };
	struct passwd *pw;

	if (opts->db != NULL || geteuid() != 0) {
		return false;
	}
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		if (getenv(vars[i]) != NULL) {
			return false;
		}
	}
	pw = getpwnam("postgres");
	if (pw == NULL) {
		return false;
	}
	*ret_uid = pw->pw_uid;
	return true;
}

PGconn *
ctl_connect_to(const struct ctl_opts *opts, const char *dbname)
{
	const char *keys[4], *vals[4];
	int n = 0;
	uid_t uid;
	bool as_pg = local_admin(opts, &uid);
	PGconn *conn;

	keys[n] = "dbname";
	vals[n++] = opts->db != NULL ? opts->db : "";
	if (as_pg) {
		keys[n] = "user";
		vals[n++] = "postgres";
		keys[n] = "dbname";
		vals[n++] = dbname != NULL ? dbname : "aimeter";
	} else if (dbname != NULL) {
		keys[n] = "dbname";
		vals[n++] = dbname;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	if (as_pg && seteuid(uid) < 0) {
		fprintf(stderr, "aimeterctl: could not switch to the postgres user: %s\n",
			strerror(errno));
		return NULL;
	}
	conn = PQconnectdbParams(keys, vals, 1);
	if (as_pg && seteuid(0) < 0) {
		/* Cannot happen for a process that started as root; never go on half-privileged. */
		fprintf(stderr, "aimeterctl: could not switch back to root: %s\n", strerror(errno));
		PQfinish(conn);
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "aimeterctl: could not connect to the database: %s",
			PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, notice_cb, NULL);
	return conn;
}

/*
 * Every command reads the rollups exact: events a collector wrote with the
 * fold deferred are folded first (docs/write-path.md, "The fold"). Skipped
 * before migration 0010 and for a role that may not run it; a failure is
 * left to the command's own statements to report.
 */
static const char fold_sql[] =
	"DO $$BEGIN"
	" IF to_regprocedure('aimeter.fold_rollups(integer)') IS NOT NULL"
	" AND has_function_privilege('aimeter.fold_rollups(integer)', 'EXECUTE')"
	" AND NOT current_setting('transaction_read_only')::bool THEN"
	" PERFORM aimeter.fold_rollups(); END IF; END$$";

PGconn *
ctl_connect(const struct ctl_opts *opts)
{
	PGconn *conn = ctl_connect_to(opts, NULL);

	if (conn != NULL) {
		PQclear(PQexec(conn, fold_sql));
	}
	return conn;
}

int
ctl_exec(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);

	PQclear(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fprintf(stderr, "aimeterctl: %s", PQerrorMessage(conn));
		return -1;
	}
	return 0;
}

PGresult *
ctl_query(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fprintf(stderr, "aimeterctl: %s", PQerrorMessage(conn));
		PQclear(r);
		return NULL;
	}
	return r;
}

int
ctl_copy(PGconn *conn, const char *sql, const char *data, size_t len)
{
	PGresult *r = PQexec(conn, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COPY_IN) {
		fprintf(stderr, "aimeterctl: could not start COPY: %s", PQerrorMessage(conn));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	if ((len > 0 && PQputCopyData(conn, data, (int)len) != 1) ||
	    PQputCopyEnd(conn, NULL) != 1) {
		fprintf(stderr, "aimeterctl: could not send COPY data: %s", PQerrorMessage(conn));
		rc = -1;
	}
	while ((r = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "aimeterctl: COPY failed: %s", PQerrorMessage(conn));
			rc = -1;
		}
		PQclear(r);
	}
	return rc;
}

int
ctl_read_file(const char *path, char **ret_buf, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t len = 0, cap = 65536, n;
	char *buf, *p;

	if (f == NULL) {
		fprintf(stderr, "aimeterctl: could not open file \"%s\": %s\n", path,
			strerror(errno));
		return -1;
	}
	buf = malloc(cap);
	if (buf == NULL) {
		goto nomem;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			p = realloc(buf, cap * 2);
			if (p == NULL) {
				goto nomem;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "aimeterctl: could not read file \"%s\": %s\n", path,
			strerror(errno));
		free(buf);
		if (f != stdin) {
			fclose(f);
		}
		return -1;
	}
	if (f != stdin) {
		fclose(f);
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
nomem:
	fprintf(stderr, "aimeterctl: could not read file \"%s\": out of memory\n", path);
	free(buf);
	if (f != stdin) {
		fclose(f);
	}
	return -1;
}

int
ctl_person_key(const struct ctl_opts *opts, uint8_t *ret_key, size_t *ret_len)
{
	const char *path = opts->key_file != NULL ? opts->key_file :
						    getenv("AIMETER_PERSON_KEY_FILE");
	char err[512];

	if (path == NULL || path[0] == '\0') {
		fprintf(stderr, "aimeterctl: no person-key file: use --person-key-file or "
				"AIMETER_PERSON_KEY_FILE\n");
		return -1;
	}
	if (identity_key_load(path, ret_key, ret_len, err, sizeof(err)) < 0) {
		fprintf(stderr, "aimeterctl: %s\n", err);
		return -1;
	}
	return 0;
}

bool
ctl_common_option(struct ctl_opts *opts, int c, const char *arg)
{
	switch (c) {
	case CTL_OPT_DB:
		opts->db = arg;
		return true;
	case CTL_OPT_KEY:
		opts->key_file = arg;
		return true;
	default:
		return false;
	}
}
