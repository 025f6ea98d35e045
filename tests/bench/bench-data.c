/* bench-data.c: the database benches' data and its loading; see bench-data.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-data.h"
#include "bench-util.h"
#include "identity.h"
#include "migrate.h"

static const char *bench_name = "bench";

void
bench_die(PGconn *c, const char *what)
{
	fprintf(stderr, "%s: %s: %s", bench_name, what, c != NULL ? PQerrorMessage(c) : "\n");
	exit(1);
}

PGresult *
bench_query(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		bench_die(c, sql);
	}
	return r;
}

void
bench_exec(PGconn *c, const char *sql)
{
	PQclear(bench_query(c, sql));
}

void
bench_copy(PGconn *c, const char *sql, const char *data, size_t len)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COPY_IN) {
		bench_die(c, sql);
	}
	PQclear(r);
	if ((len > 0 && PQputCopyData(c, data, (int)len) != 1) || PQputCopyEnd(c, NULL) != 1) {
		bench_die(c, "copy data");
	}
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			bench_die(c, "copy");
		}
		PQclear(r);
	}
}

PGconn *
bench_connect_admin(const char *name)
{
	PGconn *admin;

	bench_name = name;
	admin = PQconnectdb("");
	if (PQstatus(admin) != CONNECTION_OK) {
		bench_die(admin, "could not connect (tests/run provides PG*)");
	}
	return admin;
}

PGconn *
bench_open_db(PGconn *admin, const char *dbname)
{
	char sql[256], conninfo[128], err[512];
	int applied = 0;
	PGresult *r;
	PGconn *c;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM pg_database WHERE datname = '%s'", dbname);
	r = bench_query(admin, sql);
	if (PQntuples(r) == 0) {
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
		bench_exec(admin, sql);
	}
	PQclear(r);
	snprintf(conninfo, sizeof(conninfo), "dbname=%s", dbname);
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		bench_die(c, "could not connect to the bench database");
	}
	if (migrate_run(c, &applied, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: migrate: %s\n", bench_name, err);
		exit(1);
	}
	bench_exec(c, "SET client_min_messages = warning");
	return c;
}

void
bench_drop_db(PGconn *admin, const char *dbname)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "DROP DATABASE %s", dbname);
	bench_exec(admin, sql);
}

int64_t
bench_three_months(int64_t *ret_end_ms)
{
	time_t tnow = time(NULL);
	struct tm tm;
	int64_t start_ms;

	gmtime_r(&tnow, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon -= 3;
	start_ms = (int64_t)timegm(&tm) * 1000;
	tm.tm_mon += 3;
	*ret_end_ms = (int64_t)timegm(&tm) * 1000;
	return start_ms;
}

void
bench_load_teams(PGconn *c, const struct bench_scale *sc)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO aimeter.cost_centers (code) SELECT 'CC-' || g FROM generate_series(1, %d) g;"
		 "INSERT INTO aimeter.teams (name) SELECT 'team-' || g FROM generate_series(1, %d) g;"
		 "INSERT INTO aimeter.team_cost_centers (team_id, cost_center_id)"
		 " SELECT t.team_id, c.cost_center_id FROM aimeter.teams t JOIN aimeter.cost_centers c"
		 " ON c.code = 'CC-' || ((t.team_id %% %d) + 1) WHERE t.team_id > 0",
		 sc->teams / 4 + 1, sc->teams, sc->teams / 4 + 1);
	bench_exec(c, sql);
}

uint8_t (*bench_load_people(PGconn *c, const struct bench_scale *sc,
			    const char *switch_day))[32]
{
	static const uint8_t key[32] = "aimeter-bench-person-key-0123456";
	/* A row: 64 hex digits, an identity under 40 bytes, two team numbers. */
	enum { ROW_MAX = 160 };
	uint8_t(*macs)[32] = calloc((size_t)sc->people, 32);
	char *rows = malloc((size_t)sc->people * ROW_MAX), sql[1024];
	size_t len = 0;

	if (macs == NULL || rows == NULL) {
		bench_die(NULL, "out of memory");
	}
	for (int p = 0; p < sc->people; p++) {
		char ident[64], hx[65];
		int t1 = p % sc->teams + 1;
		int t2 = switch_day != NULL && p % 4 == 0 ? (p + 1) % sc->teams + 1 : t1;

		snprintf(ident, sizeof(ident), "person%d@example.com", p);
		identity_hmac(key, sizeof(key), ident, macs[p]);
		hex_encode(macs[p], 32, hx);
		len += (size_t)snprintf(rows + len, ROW_MAX, "%s\t%s\t%d\t%d\n", hx, ident, t1, t2);
	}
	bench_exec(c, "CREATE TEMP TABLE bp (mac text, ident text, t1 int, t2 int)");
	bench_copy(c, "COPY bp FROM STDIN", rows, len);
	free(rows);
	/* Nobody moves without a switch day: t1 = t2, and valid_to stays open. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO aimeter.people (person_key, label) SELECT decode(mac, 'hex'), ident FROM bp;"
		 "INSERT INTO aimeter.identities SELECT decode(mac, 'hex'), ident, p.person_id"
		 " FROM bp JOIN aimeter.people p ON p.label = bp.ident;"
		 "INSERT INTO aimeter.memberships (person_id, team_id, valid_to)"
		 " SELECT p.person_id, bp.t1, CASE WHEN bp.t1 <> bp.t2 THEN '%s'::date END"
		 " FROM bp JOIN aimeter.people p ON p.label = bp.ident;"
		 "INSERT INTO aimeter.memberships (person_id, team_id, valid_from)"
		 " SELECT p.person_id, bp.t2, '%s'::date FROM bp JOIN aimeter.people p"
		 " ON p.label = bp.ident WHERE bp.t1 <> bp.t2;"
		 "UPDATE aimeter.settings SET backfill_horizon_months = 24",
		 switch_day != NULL ? switch_day : "infinity",
		 switch_day != NULL ? switch_day : "infinity");
	bench_exec(c, sql);
	bench_exec(c, "ANALYZE");
	return macs;
}

uint64_t
bench_event_start(long i, uint8_t tag, am_usage_event *ev, uint8_t id[16])
{
	uint64_t s = (uint64_t)i * 0x9e3779b97f4a7c15ull + 1;

	/* Neighbouring seeds: warm up before the first draw that counts. */
	for (int k = 0; k < 3; k++) {
		bench_rnd(&s);
	}
	aimeter__v1__usage_event__init(ev);
	memset(id, 0, 16);
	memcpy(id, &i, sizeof(i));
	id[15] = tag;
	ev->event_id.data = id;
	ev->event_id.len = 16;
	ev->session = (char *)"4b1d0c6e-5d7e-4a43-8f0a-2c9b3f1e7a55";
	ev->project = (char *)"6f2d9c1b8a7e4d3c2b1a0f9e8d7c6b5a";
	ev->speed = (char *)"";
	ev->service_tier = (char *)"";
	return s;
}

void
bench_event_model(am_usage_event *ev, const struct bench_model *mix, int pct)
{
	while (pct >= mix->upto) {
		mix++;
	}
	ev->model = (char *)mix->model;
	ev->tool = (char *)mix->tool;
	ev->billing_mode = mix->billing_mode;
}

void
bench_event_tokens(am_usage_event *ev, uint64_t *s)
{
	ev->input_tokens = bench_rnd(s) % 5000;
	ev->output_tokens = bench_rnd(s) % 4000;
	ev->cache_read_tokens = bench_rnd(s) % 250000;
	ev->cache_write_5m_tokens = bench_rnd(s) % 8000;
	ev->cache_write_1h_tokens = (bench_rnd(s) % 10 == 0) ? bench_rnd(s) % 20000 : 0;
	ev->web_search_requests = (bench_rnd(s) % 50 == 0) ? 1 : 0;
}

long
bench_load_events(PGconn *c, const struct bench_scale *sc, uint8_t tag,
		  void (*make)(long i, const void *ctx, am_usage_event *ev, uint8_t id[16],
			       int *ret_person),
		  const void *ctx, uint8_t (*macs)[32], double *ret_seconds)
{
	struct writepath_buf bbuf, ebuf;
	long inserted = 0;
	int deferred = 0;
	double t0, t_fold;

	writepath_buf_init(&bbuf, 1u << 16);
	writepath_buf_init(&ebuf, 64u << 20);
	bench_exec(c, WRITEPATH_SQL_CREATE_STAGE);
	t0 = bench_now();
	t_fold = t0;
	for (long i = 0, b = 0; i < sc->events; b++) {
		uint8_t bid[16] = { 0 };
		PGresult *r;

		memcpy(bid, &b, sizeof(b));
		bid[15] = tag;
		writepath_buf_reset(&bbuf);
		writepath_buf_reset(&ebuf);
		writepath_format_batch(&bbuf, 0, "7f3c9a10-5b2e-4c61-9d0a-1e2f3a4b5c6d", bid, 16,
				       BENCH_BATCH, 0);
		for (int k = 0; k < BENCH_BATCH && i < sc->events; k++, i++) {
			am_usage_event ev;
			uint8_t id[16];
			int person;

			make(i, ctx, &ev, id, &person);
			if (writepath_format_event(&ebuf, 0, k, &ev, macs[person], NULL, NULL) < 0) {
				bench_die(NULL, "staging buffer full");
			}
		}
		/* Under load, as the collector: the fold deferred, then run on schedule. */
		bench_exec(c, WRITEPATH_SQL_BEGIN_DEFERRED);
		bench_copy(c, WRITEPATH_SQL_COPY_BATCH, bbuf.data, bbuf.len);
		bench_copy(c, WRITEPATH_SQL_COPY_EVENTS, ebuf.data, ebuf.len);
		r = bench_query(c, WRITEPATH_SQL_INGEST);
		inserted += strtol(PQgetvalue(r, 0, 1), NULL, 10);
		PQclear(r);
		bench_exec(c, "COMMIT");
		if (++deferred >= WRITEPATH_FOLD_EVERY_BATCHES ||
		    (bench_now() - t_fold) * 1000 >= WRITEPATH_FOLD_EVERY_MS) {
			bench_exec(c, WRITEPATH_SQL_FOLD);
			deferred = 0;
			t_fold = bench_now();
		}
	}
	bench_exec(c, WRITEPATH_SQL_FOLD);
	*ret_seconds = bench_now() - t0;
	writepath_buf_finish(&bbuf);
	writepath_buf_finish(&ebuf);
	return inserted;
}

double
bench_backend_cpu(PGconn *c)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	long ticks = sysconf(_SC_CLK_TCK);
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", PQbackendPID(c));
	f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15, counted after the command name's closing parenthesis. */
	p = strrchr(buf, ')');
	if (p == NULL || ticks <= 0 ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
		   &stime) != 2) {
		return -1;
	}
	return (double)(utime + stime) / (double)ticks;
}

double
bench_time_query(PGconn *c, const char *sql, int runs, long *ret_rows)
{
	double best = 1e9;

	for (int k = 0; k < runs; k++) {
		double t0 = bench_now(), t;
		PGresult *r = PQexec(c, sql);
		long n = 0;

		if (PQresultStatus(r) == PGRES_COPY_OUT) {
			char *buf;

			PQclear(r);
			while (PQgetCopyData(c, &buf, 0) > 0) {
				n++;
				PQfreemem(buf);
			}
			while ((r = PQgetResult(c)) != NULL) {
				if (PQresultStatus(r) != PGRES_COMMAND_OK) {
					bench_die(c, sql);
				}
				PQclear(r);
			}
		} else if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			n = PQntuples(r);
			PQclear(r);
		} else {
			bench_die(c, sql);
		}
		t = bench_now() - t0;
		*ret_rows = n;
		best = t < best ? t : best;
	}
	return best;
}
