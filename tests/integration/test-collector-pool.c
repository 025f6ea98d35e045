/*
 * test-collector-pool.c: the collector's libpq pool (store/db.c) against
 * the PostgreSQL of tests/run (PG* variables): a backend killed with
 * pg_terminate_backend mid-query fails its job as retryable and the pool
 * reconnects; SQLSTATEs decide the rest (22012 and 23505: the same data
 * fails again, no retry; 40001: retry); then a plain query succeeds. The
 * loop must close clean after db_close (uv_loop_close() == 0).
 *
 * The test's own admin connection is synchronous; blocking the loop for a
 * query is fine here, never in the collector.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "db.h"
#include "metrics.h"
#include "migrate.h"
#include "test.h"

#define SLEEP_SQL "SELECT pg_sleep(60)"

enum step { STEP_SLEEP, STEP_DIV, STEP_UNIQUE, STEP_SERIAL, STEP_OK, STEP_MAX };

static const char *const step_sql[STEP_MAX] = {
	SLEEP_SQL,
	"SELECT 1/0",
	"DO $$ BEGIN RAISE EXCEPTION 'duplicate' USING ERRCODE = '23505'; END $$",
	"DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$",
	"SELECT 41 + 1",
};

static uv_loop_t loop;
static struct db db;
static struct metrics metrics;
static uv_timer_t timer; /* waits for the pool, then for the sleeping backend */
static PGconn *admin;
static char dbname[64];
static struct db_job job;
static struct db_cmd cmd;
static struct db_job *waiting; /* the next job for the pool */
static enum step step;
static int status[STEP_MAX];
static bool retry[STEP_MAX];
static char sqlstate[STEP_MAX][6];
static bool killed, closed;

static PGresult *
admin_exec(const char *sql)
{
	PGresult *r = PQexec(admin, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		TEST_FAIL_("%s: %s", sql, PQerrorMessage(admin));
	}
	return r;
}

static struct db_job *
next_job(void *owner)
{
	struct db_job *j = waiting;

	(void)owner;
	waiting = NULL;
	return j;
}

static void closed_cb(struct db *d);
static void job_done(struct db_job *j, int st);

static void
submit(enum step s)
{
	step = s;
	cmd = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = step_sql[s] };
	job = (struct db_job){ .cmds = &cmd, .ncmds = 1, .done = job_done };
	waiting = &job;
	db_kick(&db);
}

/* Kill the backend that runs SLEEP_SQL once it is running. */
static void
kill_cb(uv_timer_t *t)
{
	char sql[512];
	PGresult *r;

	snprintf(sql, sizeof(sql),
		 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
		 " WHERE datname = '%s' AND query = '%s' AND state = 'active'",
		 dbname, SLEEP_SQL);
	r = admin_exec(sql);
	if (PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't') {
		killed = true;
		uv_timer_stop(t);
	}
	PQclear(r);
}

static void
ready_cb(uv_timer_t *t)
{
	if (!db_ready(&db)) {
		return;
	}
	submit(STEP_SLEEP);
	ASSERT_EQ(uv_timer_start(t, kill_cb, 0, 20), 0);
}

static void
job_done(struct db_job *j, int st)
{
	status[step] = st;
	retry[step] = st < 0 && db_job_retryable(j, st);
	snprintf(sqlstate[step], sizeof(sqlstate[step]), "%s", j->sqlstate);
	if (step == STEP_OK) {
		ASSERT_EQ(st, 0);
		ASSERT_STR_EQ(PQgetvalue(cmd.result, 0, 0), "42");
	}
	db_job_clear(j);
	if (step + 1 < STEP_MAX) {
		submit(step + 1);
		return;
	}
	uv_close((uv_handle_t *)&timer, NULL);
	db_close(&db, closed_cb);
}

static void
closed_cb(struct db *d)
{
	ASSERT(d == &db);
	closed = true;
}

static void
setup_database(void)
{
	char sql[128], conninfo[128], err[512];
	PGconn *pg;
	PGresult *r;
	int applied = 0;

	admin = PQconnectdb("");
	if (PQstatus(admin) != CONNECTION_OK) {
		TEST_FAIL_("could not connect to PostgreSQL (PG* variables): %s",
			   PQerrorMessage(admin));
	}
	snprintf(dbname, sizeof(dbname), "am_test_pool_%d", (int)getpid());
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	PQclear(admin_exec(sql));
	snprintf(conninfo, sizeof(conninfo), "dbname=%s", dbname);
	pg = PQconnectdb(conninfo);
	ASSERT_EQ(PQstatus(pg), CONNECTION_OK);
	r = PQexec(pg, "SET client_min_messages = warning");
	PQclear(r);
	if (migrate_run(pg, &applied, err, sizeof(err)) < 0) {
		TEST_FAIL_("could not migrate %s: %s", dbname, err);
	}
	ASSERT_GT(applied, 0);
	PQfinish(pg);
}

int
main(void)
{
	char conninfo[128], sql[128];

	setup_database();
	snprintf(conninfo, sizeof(conninfo), "dbname=%s", dbname);
	ASSERT_EQ(uv_loop_init(&loop), 0);
	ASSERT_EQ(db_init(&db, &loop, conninfo, 1, next_job, NULL, &metrics), 0);
	db_start(&db);
	ASSERT_EQ(uv_timer_init(&loop, &timer), 0);
	ASSERT_EQ(uv_timer_start(&timer, ready_cb, 0, 20), 0);

	ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ASSERT(closed);
	ASSERT_EQ(uv_loop_close(&loop), 0);

	/* A killed backend: the connection is gone, the client must retry. */
	ASSERT(killed);
	ASSERT_LT(status[STEP_SLEEP], 0);
	ASSERT(retry[STEP_SLEEP]);
	ASSERT_GE(metrics.db_reconnects, 2); /* the first connection, then after the kill */
	/* Errors the same data meets again: no retry, whatever the client does. */
	ASSERT_LT(status[STEP_DIV], 0);
	ASSERT_STR_EQ(sqlstate[STEP_DIV], "22012");
	ASSERT(!retry[STEP_DIV]);
	ASSERT_LT(status[STEP_UNIQUE], 0);
	ASSERT_STR_EQ(sqlstate[STEP_UNIQUE], "23505");
	ASSERT(!retry[STEP_UNIQUE]);
	/* A serialization failure passes on the next try. */
	ASSERT_LT(status[STEP_SERIAL], 0);
	ASSERT_STR_EQ(sqlstate[STEP_SERIAL], "40001");
	ASSERT(retry[STEP_SERIAL]);
	ASSERT_EQ(status[STEP_OK], 0);
	/* The decision itself, without a server. */
	ASSERT(db_retryable(""));
	ASSERT(db_retryable("57P01"));
	ASSERT(db_retryable("08006"));
	ASSERT(!db_retryable("42501"));

	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", dbname);
	PQclear(admin_exec(sql));
	PQfinish(admin);
	return 0;
}
