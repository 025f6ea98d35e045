/*
 * migrate.h: the SQL migrations embedded at build time (embed-migrations.py)
 * and the runner behind `aimeterctl migrate`.
 */
#ifndef AM_MIGRATE_H
#define AM_MIGRATE_H

#include <stddef.h>

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
 */
int migrate_run(PGconn *conn, int *ret_applied, char *ret_err, size_t err_size);

/* migrate_latest(): the highest embedded version. */
int migrate_latest(void);

#endif
