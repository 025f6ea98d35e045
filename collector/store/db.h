/*
 * db.h: a small pool of asynchronous libpq connections on the libuv loop.
 *
 * Nothing here blocks: connections are made with PQconnectStart/PQconnectPoll
 * driven by a uv_poll_t on PQsocket (re-checked after every poll, the poll
 * handle closed before libpq closes the fd), then run in nonblocking mode.
 * The owner hands over work as jobs, pulled whenever a connection is free,
 * so it can group small batches at the last moment. A job is a list of
 * commands (queries with text or binary parameters, or COPY FROM STDIN with
 * its data) run in order on one connection; the first error stops it, and an
 * open transaction is rolled back before the connection is reused.
 */
#ifndef AM_COLLECTOR_DB_H
#define AM_COLLECTOR_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "backoff.h"
#include "metrics.h"

#define DB_MAX_CONNS 16

enum db_cmd_kind { DB_CMD_QUERY, DB_CMD_COPY, DB_CMD_MAX };

struct db_cmd {
	enum db_cmd_kind kind;
	const char *sql;   /* borrowed until the job is done */
	int nparams;       /* 0: simple query protocol (several statements allowed) */
	const char *const *values;
	const int *lengths;
	const int *formats;
	const char *copy_data; /* DB_CMD_COPY: the rows, borrowed */
	size_t copy_len;
	bool is_commit;    /* the test hook may pause after sending it */
	PGresult *result;  /* the last result; valid only inside the done callback */
};

struct db_job;
typedef void (*db_job_done_cb)(struct db_job *job, int status);

struct db_job {
	struct db_cmd *cmds; /* borrowed until done */
	unsigned ncmds;
	db_job_done_cb done; /* called exactly once; status 0 or a negative errno */
	void *data;
	/* filled in by db */
	char sqlstate[6];
	char message[256];
	uint64_t started_ns;
	uint64_t commit_sent_ns;
};

struct db;

enum db_conn_state {
	DBC_DOWN,
	DBC_CONNECTING,
	DBC_SETUP,
	DBC_IDLE,
	DBC_BUSY,
	DBC_CLEANUP,
	DBC_STATE_MAX
};

struct db_poll;

struct db_conn {
	struct db *db;
	unsigned index;
	PGconn *pg;
	struct db_poll *poll; /* heap: one per socket, freed in its close callback */
	uv_timer_t timer;     /* reconnect backoff, connect timeout, test pause */
	enum db_conn_state state;
	bool want_write;
	bool paused; /* test hook: not reading after COMMIT */
	bool ready_once;
	struct backoff retry; /* reconnect waits, reset once ready */
	struct db_job *job;
	unsigned cmd;      /* index into job->cmds */
	size_t copy_off;   /* bytes of the current COPY already queued */
	bool copy_sent;
	bool copy_blocked; /* PQputCopyData/End said "no room": resume when writable */
	bool failed_cmd;   /* an error result was seen in the current job */
	struct db_job setup_job; /* migration check, then temp tables */
	struct db_cmd setup_cmds[1];
	struct db_job cleanup_job; /* ROLLBACK after a failed job */
	struct db_cmd cleanup_cmd;
	int setup_step;
};

/* Pulls the next job for a free connection; returns NULL when there is none. */
typedef struct db_job *(*db_next_job_fn)(void *owner);

/* A NOTIFY on the channel of db_listen arrived; payload is borrowed. */
typedef void (*db_notify_fn)(void *owner, const char *payload);

struct db {
	uv_loop_t *loop;
	char *conninfo; /* owned; NULL: the PG* variables */
	unsigned nconns;
	struct db_conn conns[DB_MAX_CONNS];
	db_next_job_fn next_job;
	void *owner;
	struct metrics *metrics;
	unsigned handles_open; /* for db_close */
	void (*closed_cb)(struct db *db);
	bool stopping;
	bool migrated;          /* the last setup found the schema */
	db_notify_fn notify;    /* NULL: no LISTEN */
	char setup_sql[512];    /* temp tables, then LISTEN on the channel of db_listen */
	unsigned commit_pause_ms; /* test builds only */
};

/*
 * db_init(db, loop, conninfo, nconns, next_job, owner, metrics):
 * Prepare the pool (no connection yet). conninfo is copied. Returns 0 or a
 * negative errno.
 */
int db_init(struct db *db, uv_loop_t *loop, const char *conninfo, unsigned nconns,
	    db_next_job_fn next_job, void *owner, struct metrics *metrics);

/*
 * db_listen(db, channel, notify): every pool connection LISTENs on channel
 * (an SQL identifier, copied) once it is set up, and notify runs with the
 * owner for each notification. Call before db_start. Notifications sent
 * while a connection was down are lost: callers keep a backstop (a TTL).
 * Returns 0 or -EINVAL (channel not a plain lowercase identifier).
 */
int db_listen(struct db *db, const char *channel, db_notify_fn notify);

/* db_start(db): start connecting every connection. */
void db_start(struct db *db);

/* db_kick(db): new work is waiting: let every free connection pull. */
void db_kick(struct db *db);

/* db_ready(db): at least one connection is up and the schema is migrated. */
bool db_ready(const struct db *db);

/* db_busy(db): jobs are running. */
unsigned db_busy(const struct db *db);

/*
 * db_close(db, closed_cb): fail running jobs with -ECANCELED, close every
 * connection and handle; closed_cb runs once all handles are closed.
 */
void db_close(struct db *db, void (*closed_cb)(struct db *db));

/* db_job_clear(job): PQclear every command's result; done callbacks call it. */
void db_job_clear(struct db_job *job);

/* db_retryable(sqlstate): a transient failure (connection, shutdown, serialization). */
bool db_retryable(const char *sqlstate);

/*
 * db_job_retryable(job, status): may the client retry the work of a failed
 * job (status < 0)? Yes when the connection dropped, the pool is closing
 * (-ECONNRESET, -ECANCELED) or the SQLSTATE is transient; no for an error
 * the same data would meet again.
 */
bool db_job_retryable(const struct db_job *job, int status);

#endif
