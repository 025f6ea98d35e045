/* migrate.c: apply embedded migrations; see migrate.h. */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any 64-bit number unique to aimeter: "aimeter\0" as ASCII. */
#define MIGRATE_LOCK_KEY "7596553063616554496"

static int
exec_cmd(PGconn *conn, const char *sql, char *err, size_t err_size)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(err, err_size, "%s", PQerrorMessage(conn));
		rc = -1;
	}
	PQclear(r);
	return rc;
}

int
migrate_latest(void)
{
	return migrations_count > 0 ? migrations[migrations_count - 1].version : 0;
}

static int
applied_digest(PGconn *conn, int version, char *ret_digest, size_t size, char *err,
	       size_t err_size)
{
	char v[16];
	const char *params[1] = { v };
	PGresult *r;
	int rc = 0;

	snprintf(v, sizeof(v), "%d", version);
	r = PQexecParams(conn, "SELECT sha256 FROM aimeter.schema_migrations WHERE version = $1", 1,
			 NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, err_size, "could not read the migrations table: %s",
			 PQerrorMessage(conn));
		rc = -1;
	} else if (PQntuples(r) == 1) {
		snprintf(ret_digest, size, "%s", PQgetvalue(r, 0, 0));
		rc = 1;
	}
	PQclear(r);
	return rc;
}

static int
apply_one(PGconn *conn, const struct migration *m, char *err, size_t err_size)
{
	char v[16];
	const char *params[3] = { v, m->name, m->sha256 };
	PGresult *r;
	char msg[512];

	snprintf(v, sizeof(v), "%d", m->version);
	if (exec_cmd(conn, "BEGIN", err, err_size) < 0) {
		return -1;
	}
	if (exec_cmd(conn, m->sql, msg, sizeof(msg)) < 0) {
		snprintf(err, err_size, "migration %04d_%s failed: %s", m->version, m->name, msg);
		goto fail;
	}
	r = PQexecParams(conn,
			 "INSERT INTO aimeter.schema_migrations (version, name, sha256) "
			 "VALUES ($1, $2, $3)",
			 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, err_size, "could not record migration %04d: %s", m->version,
			 PQerrorMessage(conn));
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	return exec_cmd(conn, "COMMIT", err, err_size);
fail:
	/* The error above is what matters; a failed rollback only repeats it. */
	(void)exec_cmd(conn, "ROLLBACK", msg, sizeof(msg));
	return -1;
}

int
migrate_run(PGconn *conn, int *ret_applied, char *ret_err, size_t err_size)
{
	char digest[80], msg[512];
	int applied = 0, rc = -1;

	if (exec_cmd(conn, "SET client_min_messages = warning", ret_err, err_size) < 0 ||
	    exec_cmd(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", ret_err, err_size) < 0) {
		return -1;
	}
	if (exec_cmd(conn,
		     "CREATE SCHEMA IF NOT EXISTS aimeter;"
		     "CREATE TABLE IF NOT EXISTS aimeter.schema_migrations ("
		     " version int PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
		     " applied_at timestamptz NOT NULL DEFAULT now())",
		     ret_err, err_size) < 0) {
		goto out;
	}
	for (size_t i = 0; i < migrations_count; i++) {
		const struct migration *m = &migrations[i];
		int have = applied_digest(conn, m->version, digest, sizeof(digest), ret_err,
					  err_size);

		if (have < 0) {
			goto out;
		}
		if (have == 1) {
			if (strcmp(digest, m->sha256) != 0) {
				/* Never re-run: say so, so the operator can look. */
				fprintf(stderr,
					"aimeterctl: migration %04d_%s differs from the one "
					"applied, ignoring\n",
					m->version, m->name);
			}
			continue;
		}
		if (apply_one(conn, m, ret_err, err_size) < 0) {
			goto out;
		}
		applied++;
	}
	*ret_applied = applied;
	rc = 0;
out:
	/* The session ends soon anyway; an unlock failure changes nothing. */
	(void)exec_cmd(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", msg, sizeof(msg));
	return rc;
}
