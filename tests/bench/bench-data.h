/*
 * bench-data.h: the synthetic organisation and usage the database benches
 * (bench-db, bench-reports) load into a database of their own: teams and
 * cost centres, people with hashed identities and memberships, and
 * deterministic events through the collector's write path. Each bench
 * keeps its own event recipe and prices; the scaffolding is shared so both
 * load the same way. Every call exits the bench on a database error:
 * benches measure, they do not recover.
 */
#ifndef AM_BENCH_DATA_H
#define AM_BENCH_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "hex.h" /* hex_encode */

#include <libpq-fe.h>

#include "writepath.h"

/* Events per write-path batch, as the agent ships them. */
#define BENCH_BATCH 1000

struct bench_scale {
	long events;
	int people, teams;
};

/* One model of a mix: chosen for a percentile draw (0 to 99) below upto. */
struct bench_model {
	const char *model, *tool;
	int billing_mode; /* 1 api, 2 subscription (writepath_billing_mode) */
	int upto;
};

/* bench_die(c, what): print "<bench>: what: <c's error>" and exit 1. */
void bench_die(PGconn *c, const char *what);

/* bench_query(c, sql): the result of a command that must succeed; caller PQclears. */
PGresult *bench_query(PGconn *c, const char *sql);

/* bench_exec(c, sql): run a command that must succeed. */
void bench_exec(PGconn *c, const char *sql);

/* bench_copy(c, sql, data, len): COPY ... FROM STDIN with data. */
void bench_copy(PGconn *c, const char *sql, const char *data, size_t len);


/*
 * bench_connect_admin(name): connect with libpq's PG* variables (tests/run
 * sets them); name ("bench-db") prefixes every later message.
 */
PGconn *bench_connect_admin(const char *name);

/*
 * bench_open_db(admin, dbname): create dbname unless it exists, connect to
 * it and migrate it to the embedded schema.
 */
PGconn *bench_open_db(PGconn *admin, const char *dbname);

/* bench_drop_db(admin, dbname): drop the bench's database. */
void bench_drop_db(PGconn *admin, const char *dbname);

/* bench_three_months(ret_end_ms): start of three whole UTC months ending with the last complete one. */
int64_t bench_three_months(int64_t *ret_end_ms);

/* bench_load_teams(c, sc): teams team-1.. and cost centres CC-1.. (one for four teams). */
void bench_load_teams(PGconn *c, const struct bench_scale *sc);

/*
 * bench_load_people(c, sc, switch_day): people person<p>@example.com in
 * team p % teams + 1; with switch_day ("YYYY-MM-DD", NULL: never) every
 * fourth moves to the next team on that day. Returns each person's key
 * (HMAC of the identity), malloc'd, freed by the caller.
 */
uint8_t (*bench_load_people(PGconn *c, const struct bench_scale *sc,
			    const char *switch_day))[32];

/*
 * bench_event_start(i, tag, ev, id): event i's fixed fields and its id
 * (i, with tag in the last byte, so benches never share ids). Returns the
 * state of its random draws, each bench drawing in its own order.
 */
uint64_t bench_event_start(long i, uint8_t tag, am_usage_event *ev, uint8_t id[16]);

/* bench_event_model(ev, mix, pct): model, tool and billing mode for a draw 0-99. */
void bench_event_model(am_usage_event *ev, const struct bench_model *mix, int pct);

/* bench_event_tokens(ev, s): token counts and web searches drawn from *s. */
void bench_event_tokens(am_usage_event *ev, uint64_t *s);

/*
 * bench_load_events(c, sc, tag, make, ctx, macs, ret_seconds): events 0 to
 * sc->events - 1 from make(i, ctx, ...) through COPY and
 * aimeter.ingest_staged() in batches of BENCH_BATCH, one transaction each,
 * as the collector writes them; macs[person] is each event's person key.
 * Returns the events inserted; ret_seconds gets the time the batches took.
 */
long bench_load_events(PGconn *c, const struct bench_scale *sc, uint8_t tag,
		       void (*make)(long i, const void *ctx, am_usage_event *ev, uint8_t id[16],
				    int *ret_person),
		       const void *ctx, uint8_t (*macs)[32], double *ret_seconds);

/*
 * bench_backend_cpu(c): CPU seconds (user + system) the server process
 * serving c has used, from /proc, or -1 when that cannot be read (a
 * server on another machine). On a shared machine the wall clock of two
 * phases moves with the load of others; their CPU mostly does not.
 */
double bench_backend_cpu(PGconn *c);

/*
 * bench_time_query(c, sql, runs, ret_rows): the best of runs timings of
 * sql (rows, or COPY TO STDOUT lines, counted into ret_rows), in seconds.
 */
double bench_time_query(PGconn *c, const char *sql, int runs, long *ret_rows);

#endif
