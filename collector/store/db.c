/* db.c: asynchronous libpq connections on libuv; see db.h. */
#include "db.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "log.h"
#include "macros.h"
#include "writepath.h"

#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
#define DB_CONNECT_TIMEOUT_MS 10000
#define DB_RECHECK_MS 1000
#define DB_COPY_CHUNK 65536

/* Reconnect waits: from 100 ms, doubling to 5 s, never under 100 ms. */
static const struct backoff_policy retry_policy = { DB_BACKOFF_MIN_MS, DB_BACKOFF_MAX_MS,
						    DB_BACKOFF_MIN_MS };

struct db_poll {
	uv_poll_t handle;
	struct db *db;
	struct db_conn *conn; /* NULL once dropped */
	int fd;
};

static const char setup_check_sql[] =
	"SELECT to_regprocedure('aimeter.ingest_staged()') IS NOT NULL"
	" AND to_regclass('aimeter.stage_event_template') IS NOT NULL"
	" AND to_regclass('aimeter.stage_batch_template') IS NOT NULL";
static const char setup_temp_sql[] = WRITEPATH_SQL_CREATE_STAGE;
static const char rollback_sql[] = "ROLLBACK";

static void conn_connect(struct db_conn *c);
static void conn_fail(struct db_conn *c, const char *why);
static void advance(struct db_conn *c);
static void pull(struct db_conn *c);
static void drain_notifies(struct db_conn *c);
static void run_setup(struct db_conn *c);

static void
count_up(struct db *db)
{
	uint64_t up = 0;

	for (unsigned i = 0; i < db->nconns; i++) {
		enum db_conn_state s = db->conns[i].state;
		if (s == DBC_IDLE || s == DBC_BUSY || s == DBC_CLEANUP) {
			up++;
		}
	}
	db->metrics->db_connections_up = up;
}

static void
maybe_closed(struct db *db)
{
	if (db->stopping && db->handles_open == 0 && db->closed_cb != NULL) {
		void (*cb)(struct db *) = db->closed_cb;
		db->closed_cb = NULL;
		cb(db);
	}
}

static void
db_poll_close_cb(uv_handle_t *h)
{
	struct db_poll *p = container_of(h, struct db_poll, handle);
	struct db *db = p->db;

	free(p);
	db->handles_open--;
	maybe_closed(db);
}

/* Stop watching the socket; must happen before libpq closes the fd. */
static void
poll_drop(struct db_conn *c)
{
	if (c->poll != NULL) {
		c->poll->conn = NULL;
		uv_close((uv_handle_t *)&c->poll->handle, db_poll_close_cb);
		c->poll = NULL;
	}
}

static void db_poll_cb(uv_poll_t *h, int status, int events);

/* Watch PQsocket, re-checked each time: libpq may have moved to a new socket. */
static int
poll_watch(struct db_conn *c, int events)
{
	int fd = PQsocket(c->pg), r;

	if (fd < 0) {
		return -EBADF;
	}
	if (c->poll != NULL && c->poll->fd != fd) {
		poll_drop(c);
	}
	if (c->poll == NULL) {
		struct db_poll *p = calloc(1, sizeof(*p));
		if (p == NULL) {
			return -ENOMEM;
		}
		r = uv_poll_init(c->db->loop, &p->handle, fd);
		if (r < 0) {
			free(p);
			return r;
		}
		p->db = c->db;
		p->conn = c;
		p->fd = fd;
		c->poll = p;
		c->db->handles_open++;
	}
	if (events == 0) {
		return uv_poll_stop(&c->poll->handle);
	}
	return uv_poll_start(&c->poll->handle, events, db_poll_cb);
}

static void
poll_update(struct db_conn *c)
{
	int events = c->paused ? 0 : UV_READABLE | (c->want_write ? UV_WRITABLE : 0);
	int r = poll_watch(c, events);

	if (r < 0) {
		conn_fail(c, uv_strerror(r));
	}
}

static void
notice_cb(void *arg, const char *message)
{
	size_t n = strlen(message);

	/* One line, without libpq's trailing newline. */
	log_debug("database notice: %.*s", (int)(n > 0 && message[n - 1] == '\n' ? n - 1 : n),
		  message);
}

void
db_job_clear(struct db_job *job)
{
	for (unsigned i = 0; i < job->ncmds; i++) {
		PQclear(job->cmds[i].result);
		job->cmds[i].result = NULL;
	}
}

bool
db_retryable(const char *sqlstate)
{
	if (sqlstate == NULL || sqlstate[0] == '\0') {
		return true; /* no SQLSTATE: the connection itself failed */
	}
	return strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57", 2) == 0 ||
	       strncmp(sqlstate, "53", 2) == 0 || strcmp(sqlstate, "40001") == 0 ||
	       strcmp(sqlstate, "40P01") == 0 || strcmp(sqlstate, "25006") == 0 ||
	       /* two transactions creating the same month's partition: the next try sees it */
	       strcmp(sqlstate, "42P07") == 0;
}

bool
db_job_retryable(const struct db_job *job, int status)
{
	return status == -ECONNRESET || status == -ECANCELED || db_retryable(job->sqlstate);
}

static void
timer_retry_cb(uv_timer_t *t)
{
	struct db_conn *c = container_of(t, struct db_conn, timer);

	if (c->state == DBC_DOWN && !c->db->stopping) {
		conn_connect(c);
	} else if (c->state == DBC_SETUP && c->job == NULL && !c->db->stopping) {
		run_setup(c);
	}
}

static void
schedule_retry(struct db_conn *c)
{
	/* Full jitter from getrandom: connections (and collectors, which used to
	 * share rand()'s unseeded sequence) do not reconnect in lockstep. */
	uv_timer_start(&c->timer, timer_retry_cb, backoff_next(&c->retry), 0);
}

/* The connection is unusable: fail its job, drop it, and reconnect later. */
static void
conn_fail(struct db_conn *c, const char *why)
{
	struct db *db = c->db;
	struct db_job *job = c->job;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", why != NULL && why[0] ? why : "connection lost");
	msg[strcspn(msg, "\n")] = '\0';
	if (c->state == DBC_CONNECTING && !c->ready_once && backoff_attempts(&c->retry) > 1) {
		log_debug("could not connect to the database (connection %u): %s", c->index, msg);
	} else if (c->state == DBC_CONNECTING) {
		log_warnx("could not connect to the database (connection %u): %s", c->index, msg);
	} else if (job != NULL && job->commit_sent_ns != 0) {
		/* whether it committed is unknown: the batch gets 503, its retry is deduplicated */
		log_warnx("lost database connection %u with a COMMIT unanswered: %s", c->index, msg);
	} else {
		log_warnx("lost database connection %u: %s", c->index, msg);
	}
	if (job != NULL) {
		db->metrics->db_errors++;
	}
	uv_timer_stop(&c->timer);
	poll_drop(c);
	PQfinish(c->pg);
	c->pg = NULL;
	c->state = DBC_DOWN;
	c->job = NULL;
	c->paused = c->want_write = c->copy_sent = c->copy_blocked = false;
	count_up(db);
	if (!db->stopping) {
		schedule_retry(c);
	}
	if (job != NULL) {
		snprintf(job->sqlstate, sizeof(job->sqlstate), "08006");
		snprintf(job->message, sizeof(job->message), "%s", msg);
		job->done(job, -ECONNRESET);
	}
}

static void
connect_timeout_cb(uv_timer_t *t)
{
	struct db_conn *c = container_of(t, struct db_conn, timer);

	if (c->state == DBC_CONNECTING) {
		conn_fail(c, "timed out");
	} else {
		timer_retry_cb(t);
	}
}

static void
connect_poll(struct db_conn *c)
{
	PostgresPollingStatusType st = PQconnectPoll(c->pg);
	int r;

	switch (st) {
	case PGRES_POLLING_READING:
		r = poll_watch(c, UV_READABLE);
		break;
	case PGRES_POLLING_WRITING:
		r = poll_watch(c, UV_WRITABLE);
		break;
	case PGRES_POLLING_OK:
		uv_timer_stop(&c->timer);
		if (PQsetnonblocking(c->pg, 1) != 0) {
			conn_fail(c, PQerrorMessage(c->pg));
			return;
		}
		c->state = DBC_SETUP;
		c->want_write = false;
		r = poll_watch(c, UV_READABLE);
		if (r < 0) {
			conn_fail(c, uv_strerror(r));
			return;
		}
		run_setup(c);
		return;
	default:
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (r < 0) {
		conn_fail(c, uv_strerror(r));
	}
}

static void
conn_connect(struct db_conn *c)
{
	static const char *const keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { c->db->conninfo != NULL ? c->db->conninfo : "",
			       "aimeter-collector", NULL };
	int r;

	c->db->metrics->db_reconnects++;
	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL) {
		log_warnx("could not start a database connection: out of memory");
		schedule_retry(c);
		return;
	}
	c->state = DBC_CONNECTING;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	PQsetNoticeProcessor(c->pg, notice_cb, c);
	uv_timer_start(&c->timer, connect_timeout_cb, DB_CONNECT_TIMEOUT_MS, 0);
	/* libpq: after PQconnectStart, act as if PQconnectPoll said WRITING. */
	r = poll_watch(c, UV_WRITABLE);
	if (r < 0) {
		conn_fail(c, uv_strerror(r));
	}
}

static int
flush(struct db_conn *c)
{
	int r = PQflush(c->pg);

	if (r < 0) {
		conn_fail(c, PQerrorMessage(c->pg));
		return -1;
	}
	c->want_write = r == 1;
	return 0;
}

static void
pause_cb(uv_timer_t *t)
{
	struct db_conn *c = container_of(t, struct db_conn, timer);

	log_info("test hook: resuming database connection %u after COMMIT", c->index);
	c->paused = false;
	poll_update(c);
	if (c->pg != NULL) {
		advance(c);
	}
}

static int
send_cmd(struct db_conn *c)
{
	struct db_job *job = c->job;
	struct db_cmd *cmd = &job->cmds[c->cmd];
	int ok;

	c->copy_off = 0;
	c->copy_sent = c->copy_blocked = false;
	if (cmd->nparams > 0) {
		ok = PQsendQueryParams(c->pg, cmd->sql, cmd->nparams, NULL, cmd->values,
				       cmd->lengths, cmd->formats, 0);
	} else {
		ok = PQsendQuery(c->pg, cmd->sql);
	}
	if (!ok) {
		conn_fail(c, PQerrorMessage(c->pg));
		return -1;
	}
	if (flush(c) < 0) {
		return -1;
	}
	if (cmd->is_commit) {
		job->commit_sent_ns = uv_hrtime();
		if (c->db->commit_pause_ms > 0) {
			/* Test builds: COMMIT is on the wire; stop reading its answer for a while. */
			log_info("test hook: COMMIT sent on database connection %u, pausing %u ms",
				 c->index, c->db->commit_pause_ms);
			c->paused = true;
			uv_timer_start(&c->timer, pause_cb, c->db->commit_pause_ms, 0);
		}
	}
	poll_update(c);
	return 0;
}

/* Queue the COPY rows and the end marker. 0: all queued; 1: blocked; -1: failed. */
static int
copy_send(struct db_conn *c)
{
	struct db_cmd *cmd = &c->job->cmds[c->cmd];
	int r;

	while (c->copy_off < cmd->copy_len) {
		size_t n = cmd->copy_len - c->copy_off;
		if (n > DB_COPY_CHUNK) {
			n = DB_COPY_CHUNK;
		}
		r = PQputCopyData(c->pg, cmd->copy_data + c->copy_off, (int)n);
		if (r < 0) {
			conn_fail(c, PQerrorMessage(c->pg));
			return -1;
		}
		if (r == 0) {
			c->copy_blocked = true;
			c->want_write = true;
			poll_update(c);
			return 1;
		}
		c->copy_off += n;
	}
	r = PQputCopyEnd(c->pg, NULL);
	if (r < 0) {
		conn_fail(c, PQerrorMessage(c->pg));
		return -1;
	}
	if (r == 0) {
		c->copy_blocked = true;
		c->want_write = true;
		poll_update(c);
		return 1;
	}
	c->copy_sent = true;
	if (flush(c) < 0) {
		return -1;
	}
	poll_update(c);
	return 0;
}

static void
record_error(struct db_conn *c, const PGresult *r)
{
	struct db_job *job = c->job;
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	if (c->failed_cmd) {
		return; /* keep the first */
	}
	c->failed_cmd = true;
	snprintf(job->sqlstate, sizeof(job->sqlstate), "%s", state ? state : "");
	snprintf(job->message, sizeof(job->message), "%s",
		 msg ? msg : PQresultErrorMessage(r));
	job->message[strcspn(job->message, "\n")] = '\0';
}

static void
cleanup_done(struct db_job *job, int status)
{
	struct db_conn *c = job->data;

	db_job_clear(job);
	if (status < 0 && c->state != DBC_DOWN) {
		conn_fail(c, "could not roll back");
	}
}

/* The current job ends; roll back first if it left a transaction open. */
static void
job_finish(struct db_conn *c, int status)
{
	struct db_job *job = c->job;
	bool setup = job == &c->setup_job;
	PGTransactionStatusType tx = PQtransactionStatus(c->pg);

	c->job = NULL;
	if (tx == PQTRANS_INTRANS || tx == PQTRANS_INERROR) {
		c->state = DBC_CLEANUP;
		c->cleanup_cmd = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = rollback_sql };
		c->cleanup_job = (struct db_job){ .cmds = &c->cleanup_cmd, .ncmds = 1,
						  .done = cleanup_done, .data = c };
		c->job = &c->cleanup_job;
		c->cmd = 0;
		c->failed_cmd = false;
		if (send_cmd(c) < 0) {
			job->done(job, status);
			return;
		}
	} else if (!setup) {
		c->state = DBC_IDLE;
	}
	job->done(job, status);
	if (c->state == DBC_IDLE && c->job == NULL) {
		pull(c);
	}
}

/* The current command returned its last result. Returns 1 to keep reading. */
static int
cmd_done(struct db_conn *c)
{
	struct db_job *job = c->job;

	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, job->message[0] ? job->message : PQerrorMessage(c->pg));
		return 0;
	}
	if (job == &c->cleanup_job) {
		c->job = NULL;
		c->state = DBC_IDLE;
		job->done(job, c->failed_cmd ? -EIO : 0);
		if (c->state == DBC_IDLE) {
			pull(c);
		}
		return 0;
	}
	if (c->failed_cmd) {
		job_finish(c, -EIO);
		return 0;
	}
	c->cmd++;
	if (c->cmd < job->ncmds) {
		if (send_cmd(c) < 0) {
			return 0;
		}
		return c->paused ? 0 : 1;
	}
	job_finish(c, 0);
	return 0;
}

static void
advance(struct db_conn *c)
{
	if (c->pg == NULL || c->state == DBC_DOWN || c->state == DBC_CONNECTING) {
		return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (c->job == NULL) {
		/* Idle: discard anything the server volunteers (errors before a close). */
		while (!PQisBusy(c->pg)) {
			PGresult *r = PQgetResult(c->pg);
			if (r == NULL) {
				break;
			}
			PQclear(r);
		}
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			conn_fail(c, PQerrorMessage(c->pg));
			return;
		}
		poll_update(c);
		return;
	}
	if (c->paused) {
		return;
	}
	for (;;) {
		struct db_cmd *cmd;
		PGresult *r;

		if (PQisBusy(c->pg)) {
			poll_update(c);
			return;
		}
		r = PQgetResult(c->pg);
		if (r == NULL) {
			if (cmd_done(c) <= 0) {
				return;
			}
			continue;
		}
		cmd = &c->job->cmds[c->cmd];
		switch (PQresultStatus(r)) {
		case PGRES_COPY_IN:
			PQclear(r);
			if (cmd->kind != DB_CMD_COPY) {
				PQputCopyEnd(c->pg, "unexpected COPY");
				continue;
			}
			if (copy_send(c) != 0) {
				return;
			}
			continue;
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
		case PGRES_EMPTY_QUERY:
			PQclear(cmd->result);
			cmd->result = r;
			continue;
		default:
			record_error(c, r);
			PQclear(r);
			continue;
		}
	}
}

static void
db_poll_cb(uv_poll_t *h, int status, int events)
{
	struct db_poll *p = container_of(h, struct db_poll, handle);
	struct db_conn *c = p->conn;

	if (c == NULL) {
		return;
	}
	if (status < 0) {
		conn_fail(c, uv_strerror(status));
		return;
	}
	if (c->state == DBC_CONNECTING) {
		connect_poll(c);
		return;
	}
	if ((events & UV_WRITABLE) != 0) {
		if (flush(c) < 0) {
			return;
		}
		if (c->copy_blocked) {
			/* libpq's buffer had no room for the COPY rows: go on where it stopped. */
			c->copy_blocked = false;
			if (copy_send(c) != 0) {
				return;
			}
		}
	}
	if ((events & UV_READABLE) != 0 && !PQconsumeInput(c->pg)) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	advance(c);
	drain_notifies(c);
}

static void
conn_run(struct db_conn *c, struct db_job *job)
{
	c->job = job;
	c->cmd = 0;
	c->failed_cmd = false;
	job->sqlstate[0] = '\0';
	job->message[0] = '\0';
	job->started_ns = uv_hrtime();
	job->commit_sent_ns = 0;
	if (job != &c->setup_job) {
		c->state = DBC_BUSY;
	}
	if (send_cmd(c) == 0) {
		advance(c);
	}
}

static void setup_done(struct db_job *job, int status);

static void
run_setup(struct db_conn *c)
{
	c->setup_step = 0;
	c->setup_cmds[0] = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = setup_check_sql };
	c->setup_job = (struct db_job){ .cmds = c->setup_cmds, .ncmds = 1, .done = setup_done,
					.data = c };
	conn_run(c, &c->setup_job);
}

static void
setup_done(struct db_job *job, int status)
{
	struct db_conn *c = job->data;
	struct db *db = c->db;
	PGresult *r = job->cmds[0].result;

	if (status < 0) {
		db_job_clear(job);
		if (c->state == DBC_SETUP && !db->stopping) {
			log_warnx("could not prepare database connection %u: %s", c->index,
				  job->message);
			uv_timer_start(&c->timer, timer_retry_cb, DB_RECHECK_MS, 0);
		}
		return;
	}
	if (c->setup_step == 0) {
		bool migrated = r != NULL && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
		db_job_clear(job);
		if (!migrated) {
			if (db->migrated || !c->ready_once) {
				log_warnx("the database is not migrated (aimeter.ingest_staged() is "
					  "missing); run aimeterctl migrate");
			}
			db->migrated = false;
			c->ready_once = true; /* log the missing schema once per connection */
			uv_timer_start(&c->timer, timer_retry_cb, DB_RECHECK_MS, 0);
			return;
		}
		c->setup_step = 1;
		c->setup_cmds[0] = (struct db_cmd){ .kind = DB_CMD_QUERY,
						    .sql = db->setup_sql[0] ? db->setup_sql :
									      setup_temp_sql };
		conn_run(c, &c->setup_job);
		return;
	}
	db_job_clear(job);
	if (!db->migrated) {
		log_info("database ready");
	}
	db->migrated = true;
	c->ready_once = true;
	backoff_reset(&c->retry);
	c->state = DBC_IDLE;
	count_up(db);
	log_debug("database connection %u ready", c->index);
	pull(c);
}

static bool
conn_free(const struct db_conn *c)
{
	return c->state == DBC_IDLE && c->job == NULL && !c->db->stopping;
}

static void
pull(struct db_conn *c)
{
	struct db *db = c->db;

	while (conn_free(c)) {
		struct db_job *job = db->next_job(db->owner);
		if (job == NULL) {
			return;
		}
		/* next_job may have answered clients, and that may have run
		 * callbacks that used or dropped this connection: look again. */
		if (!conn_free(c)) {
			struct db_conn *other = NULL;
			for (unsigned i = 0; i < db->nconns && other == NULL; i++) {
				if (conn_free(&db->conns[i])) {
					other = &db->conns[i];
				}
			}
			if (other == NULL) {
				snprintf(job->sqlstate, sizeof(job->sqlstate), "08006");
				snprintf(job->message, sizeof(job->message),
					 "database connection lost before the job started");
				job->done(job, -ECONNRESET);
				return;
			}
			c = other;
		}
		conn_run(c, job);
	}
}

/* Hand every NOTIFY libpq has read to the owner. */
static void
drain_notifies(struct db_conn *c)
{
	struct db *db = c->db;
	PGnotify *n;

	while (c->pg != NULL && (n = PQnotifies(c->pg)) != NULL) {
		if (db->notify != NULL && !db->stopping) {
			db->notify(db->owner, n->extra != NULL ? n->extra : "");
		}
		PQfreemem(n);
	}
}

int
db_listen(struct db *db, const char *channel, db_notify_fn notify)
{
	size_t n = strlen(channel);
	int len;

	if (n == 0 || n > 63 || strspn(channel, "abcdefghijklmnopqrstuvwxyz_0123456789") != n) {
		return -EINVAL;
	}
	len = snprintf(db->setup_sql, sizeof(db->setup_sql), "%s; LISTEN %s", setup_temp_sql,
		       channel);
	if (len < 0 || (size_t)len >= sizeof(db->setup_sql)) {
		db->setup_sql[0] = '\0';
		return -EINVAL;
	}
	db->notify = notify;
	return 0;
}

int
db_init(struct db *db, uv_loop_t *loop, const char *conninfo, unsigned nconns,
	db_next_job_fn next_job, void *owner, struct metrics *metrics)
{
	memset(db, 0, sizeof(*db));
	if (nconns == 0 || nconns > DB_MAX_CONNS) {
		return -EINVAL;
	}
	db->loop = loop;
	if (conninfo != NULL && (db->conninfo = strdup(conninfo)) == NULL) {
		return -ENOMEM;
	}
	db->nconns = nconns;
	db->next_job = next_job;
	db->owner = owner;
	db->metrics = metrics;
	metrics->db_connections_configured = nconns;
	for (unsigned i = 0; i < nconns; i++) {
		struct db_conn *c = &db->conns[i];
		c->db = db;
		c->index = i;
		c->state = DBC_DOWN;
		backoff_init(&c->retry, &retry_policy, NULL, NULL);
		uv_timer_init(loop, &c->timer); /* cannot fail on Unix */
		db->handles_open++;
	}
	return 0;
}

void
db_start(struct db *db)
{
	for (unsigned i = 0; i < db->nconns; i++) {
		conn_connect(&db->conns[i]);
	}
}

void
db_kick(struct db *db)
{
	for (unsigned i = 0; i < db->nconns; i++) {
		pull(&db->conns[i]);
	}
}

bool
db_ready(const struct db *db)
{
	if (!db->migrated) {
		return false;
	}
	for (unsigned i = 0; i < db->nconns; i++) {
		enum db_conn_state s = db->conns[i].state;
		if (s == DBC_IDLE || s == DBC_BUSY || s == DBC_CLEANUP) {
			return true;
		}
	}
	return false;
}

unsigned
db_busy(const struct db *db)
{
	unsigned n = 0;

	for (unsigned i = 0; i < db->nconns; i++) {
		if (db->conns[i].state == DBC_BUSY) {
			n++;
		}
	}
	return n;
}

static void
timer_close_cb(uv_handle_t *h)
{
	struct db_conn *c = container_of(h, struct db_conn, timer);
	struct db *db = c->db;

	db->handles_open--;
	maybe_closed(db);
}

void
db_close(struct db *db, void (*closed_cb)(struct db *db))
{
	db->stopping = true;
	db->closed_cb = closed_cb;
	for (unsigned i = 0; i < db->nconns; i++) {
		struct db_conn *c = &db->conns[i];
		struct db_job *job = c->job;
		bool user_job = job != NULL && job != &c->setup_job && job != &c->cleanup_job;

		c->job = NULL;
		uv_timer_stop(&c->timer);
		poll_drop(c); /* before PQfinish closes the socket */
		PQfinish(c->pg);
		c->pg = NULL;
		c->state = DBC_DOWN;
		if (job != NULL) {
			snprintf(job->sqlstate, sizeof(job->sqlstate), "57P01");
			snprintf(job->message, sizeof(job->message), "collector shutting down");
			if (user_job) {
				job->done(job, -ECANCELED);
			} else {
				db_job_clear(job);
			}
		}
		uv_close((uv_handle_t *)&c->timer, timer_close_cb);
	}
	count_up(db);
	free(db->conninfo);
	db->conninfo = NULL;
	maybe_closed(db);
}
