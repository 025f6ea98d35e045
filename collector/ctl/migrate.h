/*
 * migrate.h: the SQL schema embedded at build time (embed-migrations.py)
 * and the runner behind `aimeterctl migrate`.
 *
 * Two kinds of SQL, as in Flyway:
 * - versioned migrations (collector/migrations/NNNN_name.sql, one series
 *   0001, 0002, ...): tables, indexes, roles, grants on tables and data
 *   changes, applied once each, in order;
 * - schema objects (collector/schema/KIND/schema.name.sql): one function,
 *   trigger or view per file, written with CREATE OR REPLACE and carrying
 *   its own grants, applied again whenever their text changes, after the
 *   versioned migrations. A function whose signature changes, or an object
 *   removed, is dropped by a versioned migration: CREATE OR REPLACE makes a
 *   second overload instead.
 */
#ifndef AM_MIGRATE_H
#define AM_MIGRATE_H

#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

struct migration {
	int version;
	const char *name;
	const char *sha256; /* hex digest of sql */
	const char *sql;
};

extern const struct migration migrations[];
extern const size_t migrations_count;

struct schema_object {
	const char *name;   /* e.g. "functions/aimeter.ingest_staged" */
	const char *sha256; /* hex digest of sql */
	const char *sql;
};

/* In dependency order (the build lists them so). */
extern const struct schema_object schema_objects[];
extern const size_t schema_objects_count;

/*
 * migrate_run(conn, ret_applied, ret_err, err_size): apply every embedded
 * migration the database lacks, in version order, each in its own
 * transaction, recording it in aimeter.schema_migrations, then the schema
 * objects that changed (migrate_to below). A session advisory
 * lock serialises concurrent runs, so a second run waits and then finds
 * nothing to do. Returns 0 with the number applied in *ret_applied, or -1
 * with a message in ret_err.
 *
 * Every object belongs to the role aimeter_owner (NOLOGIN, not a
 * superuser), so SECURITY DEFINER code runs as it, never as a superuser.
 * Run by a superuser, it first creates the roles, the btree_gist extension
 * and the schema; each migration body then runs under SET LOCAL ROLE
 * aimeter_owner, except a leading part that ends with the line
 * "-- migrate: the rest runs as aimeter_owner" (0006 hands the objects of
 * earlier migrations over there). A non-superuser member of aimeter_owner
 * may run it once a superuser has.
 */
int migrate_run(PGconn *conn, int *ret_applied, char *ret_err, size_t err_size);

/*
 * migrate_to(conn, to_version, ret_applied, ret_objects, ret_err, err_size):
 * migrate_run up to version to_version (0: the latest), then, once no
 * versioned migration is left pending, the schema objects, in one
 * transaction as aimeter_owner, recorded in aimeter.schema_objects by name
 * and digest: those whose digest differs from the recorded one, or all of
 * them when a versioned migration ran (it may have dropped or changed what
 * they use). Below the latest version no object is applied: the files
 * describe the latest tables only. The database's recorded versions must be
 * this build's 1..k, same names (else -1: a newer build, or a series that
 * was renumbered before the first release), and not past to_version.
 * Returns 0 with the counts in *ret_applied and *ret_objects (either may
 * be NULL), or -1 with ret_err.
 */
int migrate_to(PGconn *conn, int to_version, int *ret_applied, int *ret_objects, char *ret_err,
	       size_t err_size);

/*
 * migrate_check_definers(conn, out, err, err_size): print a warning line to
 * out for each SECURITY DEFINER function of schemas aimeter and reporting
 * that a superuser owns or that lacks SET search_path = pg_catalog, pg_temp,
 * for each trigger on their tables that calls a function aimeter_owner does
 * not own (it would run as the owner when definer code writes), and for each
 * role but the owner that may add such triggers; else one line saying all
 * is well. Returns the number of warnings, or -1
 * with the error in err.
 */
int migrate_check_definers(PGconn *conn, FILE *out, char *err, size_t err_size);

/* migrate_latest(): the highest embedded version. */
int migrate_latest(void);

#endif
