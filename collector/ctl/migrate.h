/*
 * migrate.h: the SQL migrations embedded at build time (embed-migrations.py)
 * and the runner behind `aimeterctl migrate`.
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

/*
 * migrate_run(conn, ret_applied, ret_err, err_size): apply every embedded
 * migration the database lacks, in version order, each in its own
 * transaction, recording it in aimeter.schema_migrations. A session advisory
 * lock serialises concurrent runs, so a second run waits and then finds
 * nothing to do. Returns 0 with the number applied in *ret_applied, or -1
 * with a message in ret_err.
 *
 * Every object belongs to the role aimeter_owner (NOLOGIN, not a
 * superuser), so SECURITY DEFINER code runs as it, never as a superuser.
 * Run by a superuser, it first creates the roles, the btree_gist extension
 * and the schema; each migration body then runs under SET LOCAL ROLE
 * aimeter_owner, except a leading part that ends with the line
 * "-- migrate: the rest runs as aimeter_owner" (0106 hands the objects of
 * earlier migrations over there). A non-superuser member of aimeter_owner
 * may run it once a superuser has.
 */
int migrate_run(PGconn *conn, int *ret_applied, char *ret_err, size_t err_size);

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
