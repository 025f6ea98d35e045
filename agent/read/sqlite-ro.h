/*
 * sqlite-ro.h: reading another program's live SQLite database without
 * disturbing it (OpenCode's opencode.db, Cursor's state.vscdb).
 *
 * The database is opened read-only through a URI (mode=ro) with its WAL:
 * the newest rows of a WAL database are often only in its -wal file while
 * the writer runs. Never immutable=1 (it ignores the WAL), never
 * read-write (the last writer to close checkpoints and may remove the
 * -wal), never a copy of the .db alone. A writer holding a transaction
 * does not block a WAL reader; a rollback-journal writer holding its lock
 * does, up to the busy timeout, and then the read fails with -EBUSY: try
 * again on a later pass.
 *
 * A WAL database whose writer has closed has no -wal and no -shm, and a
 * reader that may not create the -shm (the daemon's read-only view of
 * home directories) cannot open it read-only at all. Then, and only while
 * no -wal exists, it is opened immutable: with no -wal there is nothing
 * in a WAL to miss, and a query that finds a -wal (a writer came back)
 * fails with -EBUSY instead of reading around it.
 *
 * Errors are negative errnos, with SQLite's own text in err:
 *   -ENOENT  no such database
 *   -EBUSY   locked by a writer past the busy timeout (transient)
 *   -EBADMSG not a database, or corrupt
 *   -EACCES  not readable, or a symbolic link (SQLITE_OPEN_NOFOLLOW)
 *   -ENOMEM, -E2BIG (a row or value over the caller's bound), -EIO (anything else)
 */
#ifndef AM_AGENT_SQLITE_RO_H
#define AM_AGENT_SQLITE_RO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define SQLITE_RO_BUSY_MS 200 /* a writer's commit takes milliseconds */

struct sqlite_ro {
	sqlite3 *db;
	char *wal;      /* malloc'd: path + "-wal", checked while immutable */
	bool immutable; /* no writer and no -shm could be made: see above */
	char err[256];  /* the last failure's text, "" when none */
};

/*
 * sqlite_ro_open(db, path, busy_ms): open path (a file path, not a URI)
 * read-only with its WAL, not following a symbolic link at path. Opening
 * is lazy in SQLite, so this also reads the schema once: a file that is no
 * database fails here (-EBADMSG). On failure db is closed again (its err
 * kept). 0 or a negative errno (see above).
 */
int sqlite_ro_open(struct sqlite_ro *db, const char *path, int busy_ms);

/* sqlite_ro_close(db): close; accepts a zeroed or failed struct. */
void sqlite_ro_close(struct sqlite_ro *db);

/* sqlite_ro_has_table(db, name): whether table name exists (false on error too). */
bool sqlite_ro_has_table(struct sqlite_ro *db, const char *name);

/* A bound parameter of a query: an integer, or a borrowed string when text is not NULL. */
struct sqlite_ro_arg {
	int64_t i;
	const char *text;
};

/*
 * sqlite_ro_row_cb(ctx, st): one result row (read it with sqlite3_column_*;
 * valid until the callback returns). Return 0 to go on, 1 to stop early, or
 * a negative errno to fail the query with it.
 */
typedef int sqlite_ro_row_cb(void *ctx, sqlite3_stmt *st);

/*
 * sqlite_ro_query(db, sql, args, n_args, max_rows, max_value, cb, ctx):
 * run one statement (SELECT) with args bound to ?1..?n, calling cb for at
 * most max_rows rows (the caller pages with a watermark in its WHERE).
 * SQLite itself refuses any single value over max_value bytes (-E2BIG), so a
 * hostile row cannot make the reader allocate without bound. The read is
 * one snapshot: rows committed while it runs are seen on the next query.
 * Returns the number of rows handed to cb, or a negative errno.
 */
int sqlite_ro_query(struct sqlite_ro *db, const char *sql, const struct sqlite_ro_arg *args,
		    size_t n_args, size_t max_rows, size_t max_value, sqlite_ro_row_cb *cb,
		    void *ctx);

/* sqlite_ro_errno(rc): SQLite's result code as a negative errno (see above); 0 for OK/ROW/DONE. */
int sqlite_ro_errno(int rc);

#endif
