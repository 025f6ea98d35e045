/*
 * test-sqlite-ro.c: the read-only SQLite layer against a live writer: a
 * WAL database whose newest rows are only in its -wal while the writer
 * holds it open (with a transaction in progress), a rollback-journal
 * writer holding its lock (-EBUSY), no database, not a database, a
 * symbolic link, a value over the bound, and a row cap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sqlite-ro.h"
#include "test.h"

static char dir[] = "/tmp/test-sqlite-ro.XXXXXX";

static void
path(char *ret, size_t size, const char *name)
{
	snprintf(ret, size, "%s/%s", dir, name);
}

static void
exec(sqlite3 *w, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(w, sql, NULL, NULL, &err) != SQLITE_OK) {
		TEST_FAIL_("%s: %s", sql, err);
	}
}

static sqlite3 *
writer(const char *name, bool wal)
{
	char p[512];
	sqlite3 *w = NULL;

	path(p, sizeof(p), name);
	ASSERT_EQ(sqlite3_open(p, &w), SQLITE_OK);
	if (wal) {
		/* No automatic checkpoint: the committed rows stay in the -wal. */
		exec(w, "PRAGMA journal_mode=wal; PRAGMA wal_autocheckpoint=0");
	}
	exec(w, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)");
	return w;
}

static int
sum_cb(void *ctx, sqlite3_stmt *st)
{
	*(int64_t *)ctx += sqlite3_column_int64(st, 0);
	return 0;
}

static int64_t
sum(struct sqlite_ro *db, int64_t above, size_t max_rows, int *ret_rows)
{
	const struct sqlite_ro_arg arg = {.i = above};
	int64_t total = 0;

	*ret_rows = sqlite_ro_query(db, "SELECT id FROM t WHERE id > ?1 ORDER BY id", &arg, 1,
				    max_rows, 1 << 20, sum_cb, &total);
	return total;
}

/* The writer keeps its rows in the -wal and a transaction open: the reader sees what is committed. */
TEST(live_wal_writer)
{
	char p[512], wal[520];
	struct sqlite_ro db;
	struct stat st0, st1;
	sqlite3 *w = writer("live.db", true);
	int rows;

	exec(w, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
	exec(w, "BEGIN IMMEDIATE; INSERT INTO t VALUES (4, 'uncommitted')");
	path(p, sizeof(p), "live.db");
	snprintf(wal, sizeof(wal), "%s-wal", p);
	ASSERT_EQ(stat(wal, &st0), 0);
	ASSERT_GT(st0.st_size, 0);
	ASSERT_EQ(sqlite_ro_open(&db, p, SQLITE_RO_BUSY_MS), 0);
	ASSERT(sqlite_ro_has_table(&db, "t"));
	ASSERT(!sqlite_ro_has_table(&db, "missing"));
	ASSERT_EQ(sum(&db, 0, 100, &rows), 6);
	ASSERT_EQ(rows, 3);
	ASSERT_EQ(sum(&db, 1, 1, &rows), 2); /* the row cap: the caller pages */
	ASSERT_EQ(rows, 1);
	exec(w, "COMMIT");
	ASSERT_EQ(stat(wal, &st0), 0);
	ASSERT_EQ(sum(&db, 0, 100, &rows), 10);
	sqlite_ro_close(&db);
	sqlite_ro_close(&db); /* twice is fine */
	/* The reader neither checkpointed nor removed the -wal. */
	ASSERT_EQ(stat(wal, &st1), 0);
	ASSERT_EQ(st1.st_size, st0.st_size);
	ASSERT_EQ(sqlite_ro_open(&db, p, SQLITE_RO_BUSY_MS), 0);
	ASSERT_EQ(sum(&db, 0, 100, &rows), 10);
	sqlite_ro_close(&db);
	sqlite3_close(w);
	/* The writer is gone (checkpointed, -wal removed): still readable. */
	ASSERT_EQ(sqlite_ro_open(&db, p, SQLITE_RO_BUSY_MS), 0);
	ASSERT_EQ(sum(&db, 0, 100, &rows), 10);
	sqlite_ro_close(&db);
}

/* A rollback-journal writer holding an exclusive lock: -EBUSY after the timeout. */
TEST(locked)
{
	char p[512];
	struct sqlite_ro db;
	sqlite3 *w = writer("locked.db", false);
	int rows;

	exec(w, "INSERT INTO t VALUES (1, 'a')");
	path(p, sizeof(p), "locked.db");
	ASSERT_EQ(sqlite_ro_open(&db, p, 10), 0);
	exec(w, "BEGIN EXCLUSIVE; INSERT INTO t VALUES (2, 'b')");
	(void)sum(&db, 0, 100, &rows);
	ASSERT_EQ(rows, -EBUSY);
	ASSERT(db.err[0] != '\0');
	exec(w, "COMMIT");
	ASSERT_EQ(sum(&db, 0, 100, &rows), 3);
	sqlite_ro_close(&db);
	sqlite3_close(w);
}

TEST(not_a_database)
{
	char p[512], l[512];
	struct sqlite_ro db;
	FILE *f;

	path(p, sizeof(p), "missing.db");
	ASSERT_EQ(sqlite_ro_open(&db, p, 10), -ENOENT);
	ASSERT(db.err[0] != '\0');
	sqlite_ro_close(&db);
	path(p, sizeof(p), "garbage.db");
	f = fopen(p, "w");
	ASSERT_NOT_NULL(f);
	for (int i = 0; i < 1000; i++) {
		fputs("not a database at all, ", f);
	}
	fclose(f);
	ASSERT_EQ(sqlite_ro_open(&db, p, 10), -EBADMSG);
	sqlite_ro_close(&db);
	/* A symbolic link to a good database is refused. */
	sqlite3_close(writer("target.db", true));
	path(p, sizeof(p), "target.db");
	path(l, sizeof(l), "link%3F?#.db"); /* characters a URI would read otherwise */
	ASSERT_EQ(symlink(p, l), 0);
	ASSERT_LT(sqlite_ro_open(&db, l, 10), 0);
	sqlite_ro_close(&db);
	path(l, sizeof(l), "odd name%3F?#é.db");
	ASSERT_EQ(rename(p, l), 0);
	ASSERT_EQ(sqlite_ro_open(&db, l, 10), 0);
	sqlite_ro_close(&db);
}

static int
len_cb(void *ctx, sqlite3_stmt *st)
{
	*(int *)ctx = sqlite3_column_bytes(st, 0);
	return 0;
}

TEST(value_bound)
{
	char p[512];
	struct sqlite_ro db;
	sqlite3 *w = writer("big.db", true);
	int len = 0;

	exec(w, "INSERT INTO t VALUES (1, zeroblob(100000))");
	path(p, sizeof(p), "big.db");
	ASSERT_EQ(sqlite_ro_open(&db, p, 10), 0);
	ASSERT_EQ(sqlite_ro_query(&db, "SELECT v FROM t", NULL, 0, 10, 1000, len_cb, &len), -E2BIG);
	ASSERT_EQ(sqlite_ro_query(&db, "SELECT v FROM t", NULL, 0, 10, 200000, len_cb, &len), 1);
	ASSERT_EQ(len, 100000);
	ASSERT_LT(sqlite_ro_query(&db, "SELECT nonsense FROM", NULL, 0, 10, 1000, len_cb, &len), 0);
	sqlite_ro_close(&db);
	sqlite3_close(w);
}

/* The child's side of read_only_dir: to_parent says "read", from_parent "the writer is back". */
static void
read_only_dir_child(const char *p, int to_parent, int from_parent)
{
	struct sqlite_ro db;
	char c = 0;
	int rows;

	ASSERT_EQ(sqlite_ro_open(&db, p, 10), 0);
	ASSERT(db.immutable);
	ASSERT_EQ(sum(&db, 0, 100, &rows), 3);
	ASSERT_EQ(write(to_parent, "r", 1), 1);
	ASSERT_EQ(read(from_parent, &c, 1), 1);
	/* A writer came back: its -wal is there, the immutable reader stops. */
	(void)sum(&db, 0, 100, &rows);
	ASSERT_EQ(rows, -EBUSY);
	sqlite_ro_close(&db);
	/* With the -wal and -shm of a live writer it opens as usual. */
	ASSERT_EQ(sqlite_ro_open(&db, p, 10), 0);
	ASSERT(!db.immutable);
	ASSERT_EQ(sum(&db, 0, 100, &rows), 6);
	sqlite_ro_close(&db);
}

/* In a directory the reader may not write: a closed WAL database opens immutable, a live one not. */
TEST(read_only_dir)
{
	char d[512], p[512], wal[520];
	int up[2], down[2], status;
	char c = 0;
	sqlite3 *w;
	pid_t pid;

	path(d, sizeof(d), "rodir");
	ASSERT_EQ(mkdir(d, 0755), 0);
	w = writer("rodir/ro.db", true);
	exec(w, "INSERT INTO t VALUES (1, 'a'), (2, 'b')");
	sqlite3_close(w); /* the -wal and -shm go with it */
	path(p, sizeof(p), "rodir/ro.db");
	snprintf(wal, sizeof(wal), "%s-wal", p);
	ASSERT_NE(access(wal, F_OK), 0);
	ASSERT_EQ(chmod(dir, 0755), 0);
	ASSERT_EQ(chmod(d, 0555), 0);
	ASSERT_EQ(pipe(up), 0);
	ASSERT_EQ(pipe(down), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* Root writes anywhere: be nobody to meet a directory one may not write. */
		if (geteuid() == 0 && setuid(65534) != 0) {
			_exit(2);
		}
		read_only_dir_child(p, up[1], down[0]);
		_exit(0);
	}
	close(up[1]); /* a child that fails closes the pipe: no wait forever */
	close(down[0]);
	ASSERT_EQ(read(up[0], &c, 1), 1);
	ASSERT_EQ(chmod(d, 0755), 0);
	w = writer("rodir/ro.db", true);
	exec(w, "INSERT INTO t VALUES (3, 'c')");
	ASSERT_EQ(chmod(d, 0555), 0);
	ASSERT_EQ(write(down[1], "w", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	sqlite3_close(w);
	ASSERT_EQ(chmod(d, 0755), 0);
	close(up[0]);
	close(down[1]);
}

int
main(void)
{
	ASSERT_NOT_NULL(mkdtemp(dir));
	RUN(live_wal_writer);
	RUN(locked);
	RUN(not_a_database);
	RUN(value_bound);
	RUN(read_only_dir);
	/* Leave nothing behind. */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
	return 0;
}
