/*
 * bench-reports.c: the issue-7 reports at scale. Loads N events (2,000
 * people in 100 teams of 20, each active on about 6 days in 10, 3 months)
 * through COPY + aimeter.ingest_staged() in 1,000-event batches, adds a
 * 1,500-seat subscription, then times what `aimeterctl report adoption
 * --week` and `aimeterctl export focus --month` send, each beside a
 * baseline measured in the same run on the same data: the week's active
 * people per team counted from the raw events, and a plain read of the
 * month's raw events. Prints figures only; never asserts timings.
 *
 * usage: bench-reports [--toy] [--events N] [--keep DBNAME]
 * Uses the PostgreSQL in PG* variables (tests/run starts one) and a database
 * of its own, dropped at the end unless --keep names it; with --keep and an
 * already loaded database of that name, loading is skipped.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "identity.h"
#include "migrate.h"
#include "writepath.h"

#define BATCH 1000

static const char *const models[] = { "claude-sonnet-4-5-20250929", "claude-opus-4-6",
				      "claude-haiku-4-5-20251001", "gpt-5-codex" };

struct scale {
	long events;
	int people, teams;
};

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
die(PGconn *c, const char *what)
{
	fprintf(stderr, "bench-reports: %s: %s", what, c != NULL ? PQerrorMessage(c) : "\n");
	exit(1);
}

static PGresult *
exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		die(c, sql);
	}
	return r;
}

static void
run(PGconn *c, const char *sql)
{
	PQclear(exec_ok(c, sql));
}

static void
copy_in(PGconn *c, const char *sql, const char *data, size_t len)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COPY_IN) {
		die(c, sql);
	}
	PQclear(r);
	if ((len > 0 && PQputCopyData(c, data, (int)len) != 1) || PQputCopyEnd(c, NULL) != 1) {
		die(c, "copy data");
	}
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			die(c, "copy");
		}
		PQclear(r);
	}
}

/* Person p is active on day d about 6 days in 10. */
static bool
active(int p, int d)
{
	uint64_t s = ((uint64_t)p << 20 | (uint64_t)d) * 0x9e3779b97f4a7c15ull + 7;

	for (int k = 0; k < 2; k++) {
		rnd(&s);
	}
	return s % 10 < 6;
}

static void
make_event(long i, const struct scale *sc, int64_t start_ms, int days, am_usage_event *ev,
	   uint8_t id[16], int *ret_person)
{
	uint64_t s = (uint64_t)i * 0x9e3779b97f4a7c15ull + 1;
	int m, day, p;

	for (int k = 0; k < 3; k++) {
		rnd(&s);
	}
	aimeter__v1__usage_event__init(ev);
	memset(id, 0, 16);
	memcpy(id, &i, sizeof(i));
	id[15] = 0xce;
	ev->event_id.data = id;
	ev->event_id.len = 16;
	/* In time order, as agents ship them. */
	day = (int)((double)days * (double)i / (double)sc->events);
	ev->ts_ms = start_ms + (int64_t)day * 86400000 + (int64_t)(rnd(&s) % 86400000);
	p = (int)(rnd(&s) % (uint64_t)sc->people);
	for (int k = 0; k < sc->people && !active(p, day); k++) {
		p = (p + 1) % sc->people;
	}
	m = (int)(rnd(&s) % 100);
	m = m < 50 ? 0 : m < 65 ? 1 : m < 80 ? 2 : 3;
	ev->model = (char *)models[m];
	ev->tool = (char *)(m == 3 ? "codex" : "claude-code");
	ev->session = (char *)"4b1d0c6e-5d7e-4a43-8f0a-2c9b3f1e7a55";
	ev->project = (char *)"6f2d9c1b8a7e4d3c2b1a0f9e8d7c6b5a";
	ev->billing_mode = m < 3 ? 1 : 2;
	ev->input_tokens = rnd(&s) % 5000;
	ev->output_tokens = rnd(&s) % 4000;
	ev->cache_read_tokens = rnd(&s) % 250000;
	ev->cache_write_5m_tokens = rnd(&s) % 8000;
	ev->cache_write_1h_tokens = (rnd(&s) % 10 == 0) ? rnd(&s) % 20000 : 0;
	ev->web_search_requests = (rnd(&s) % 50 == 0) ? 1 : 0;
	ev->speed = (char *)"";
	ev->service_tier = (char *)"";
	*ret_person = p;
}

static double
time_query(PGconn *c, const char *sql, int runs, long *ret_rows)
{
	double best = 1e9;

	for (int k = 0; k < runs; k++) {
		double t0 = now(), t;
		PGresult *r = PQexec(c, sql);
		long n = 0;

		if (PQresultStatus(r) == PGRES_COPY_OUT) {
			char *buf;
			int len;

			PQclear(r);
			while ((len = PQgetCopyData(c, &buf, 0)) > 0) {
				n++;
				PQfreemem(buf);
			}
			while ((r = PQgetResult(c)) != NULL) {
				if (PQresultStatus(r) != PGRES_COMMAND_OK) {
					die(c, sql);
				}
				PQclear(r);
			}
		} else if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			n = PQntuples(r);
			PQclear(r);
		} else {
			die(c, sql);
		}
		t = now() - t0;
		*ret_rows = n;
		best = t < best ? t : best;
	}
	return best;
}

static void
load(PGconn *c, const struct scale *sc, int64_t start_ms, int days)
{
	static const uint8_t key[32] = "aimeter-bench-person-key-0123456";
	uint8_t (*macs)[32] = calloc((size_t)sc->people, 32);
	struct writepath_buf bbuf, ebuf;
	char sql[2048];
	double t0;
	long inserted = 0;

	if (macs == NULL) {
		die(NULL, "out of memory");
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO aimeter.cost_centers (code) SELECT 'CC-' || g FROM generate_series(1, %d) g;"
		 "INSERT INTO aimeter.teams (name) SELECT 'team-' || g FROM generate_series(1, %d) g;"
		 "INSERT INTO aimeter.team_cost_centers (team_id, cost_center_id)"
		 " SELECT t.team_id, c.cost_center_id FROM aimeter.teams t JOIN aimeter.cost_centers c"
		 " ON c.code = 'CC-' || ((t.team_id %% %d) + 1) WHERE t.team_id > 0",
		 sc->teams / 4 + 1, sc->teams, sc->teams / 4 + 1);
	run(c, sql);
	run(c, "INSERT INTO aimeter.prices (model_pattern, provider, input_per_mtok, output_per_mtok,"
	       " cache_write_5m_per_mtok, cache_write_1h_per_mtok, cache_read_per_mtok,"
	       " web_search_per_1k) VALUES"
	       " ('claude-sonnet-4-5*', 'anthropic', 3, 15, 3.75, 6, 0.3, 10),"
	       " ('claude-opus-4-6*', 'anthropic', 5, 25, 6.25, 10, 0.5, 10),"
	       " ('claude-haiku-4-5*', 'anthropic', 1, 5, 1.25, 2, 0.1, 10),"
	       " ('gpt-5-codex*', 'openai', 1.25, 10, NULL, NULL, 0.125, NULL)");
	run(c, "CREATE TEMP TABLE bp (p int, mac bytea, ident text)");
	for (int p = 0; p < sc->people; p++) {
		char ident[64], esc[80];
		static const char hx[] = "0123456789abcdef";

		snprintf(ident, sizeof(ident), "person%d@example.com", p);
		identity_hmac(key, sizeof(key), ident, macs[p]);
		esc[0] = '\0';
		for (int k = 0; k < 32; k++) {
			esc[2 * k] = hx[macs[p][k] >> 4];
			esc[2 * k + 1] = hx[macs[p][k] & 15];
		}
		esc[64] = '\0';
		snprintf(sql, sizeof(sql), "INSERT INTO bp VALUES (%d, '\\x%s', '%s')", p, esc, ident);
		run(c, sql);
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO aimeter.people (person_key, label) SELECT mac, ident FROM bp;"
		 "INSERT INTO aimeter.identities SELECT bp.mac, bp.ident, p.person_id"
		 " FROM bp JOIN aimeter.people p ON p.label = bp.ident;"
		 "INSERT INTO aimeter.memberships (person_id, team_id)"
		 " SELECT p.person_id, bp.p %% %d + 1 FROM bp JOIN aimeter.people p ON p.label = bp.ident;"
		 "UPDATE aimeter.settings SET backfill_horizon_months = 24",
		 sc->teams);
	run(c, sql);
	run(c, "ANALYZE");

	writepath_buf_init(&bbuf, 1u << 16);
	writepath_buf_init(&ebuf, 64u << 20);
	run(c, WRITEPATH_SQL_CREATE_STAGE);
	t0 = now();
	for (long i = 0, b = 0; i < sc->events; b++) {
		uint8_t bid[16] = { 0 };
		PGresult *r;

		memcpy(bid, &b, sizeof(b));
		bid[15] = 0xce;
		writepath_buf_reset(&bbuf);
		writepath_buf_reset(&ebuf);
		writepath_format_batch(&bbuf, 0, "7f3c9a10-5b2e-4c61-9d0a-1e2f3a4b5c6d", bid, 16, BATCH,
				       0);
		for (int k = 0; k < BATCH && i < sc->events; k++, i++) {
			am_usage_event ev;
			uint8_t id[16];
			int person;

			make_event(i, sc, start_ms, days, &ev, id, &person);
			if (writepath_format_event(&ebuf, 0, k, &ev, macs[person], NULL) < 0) {
				die(NULL, "staging buffer full");
			}
		}
		run(c, "BEGIN");
		copy_in(c, WRITEPATH_SQL_COPY_BATCH, bbuf.data, bbuf.len);
		copy_in(c, WRITEPATH_SQL_COPY_EVENTS, ebuf.data, ebuf.len);
		r = exec_ok(c, WRITEPATH_SQL_INGEST);
		inserted += strtol(PQgetvalue(r, 0, 1), NULL, 10);
		PQclear(r);
		run(c, "COMMIT");
	}
	printf("  load through the write path:   %10.0f events/s  (%.1f s, %ld inserted)\n",
	       (double)sc->events / (now() - t0), now() - t0, inserted);
	writepath_buf_finish(&bbuf);
	writepath_buf_finish(&ebuf);
	free(macs);
	/* A 1,500-seat annual subscription starting mid-way through the first month. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO aimeter.subscriptions (name, vendor, plan, tool, seats, price_per_seat,"
		 " term_start, term_end, cost_center_id)"
		 " SELECT 'bench-team', 'Anthropic', 'Team Premium', 'claude-code', 1500, 300,"
		 " to_timestamp(%lld)::date + 14, to_timestamp(%lld)::date + 379, 1;"
		 "INSERT INTO aimeter.seat_assignments (subscription_id, person_id, valid_from)"
		 " SELECT s.subscription_id, p.person_id, s.term_start FROM aimeter.subscriptions s,"
		 " aimeter.people p WHERE p.person_id <= 1400",
		 (long long)(start_ms / 1000), (long long)(start_ms / 1000));
	run(c, sql);
	run(c, "VACUUM ANALYZE");
}

int
main(int argc, char **argv)
{
	struct scale sc = { 10000000, 2000, 100 };
	const char *keep = NULL;
	char dbname[64], conninfo[128], err[512], sql[4096], week[16], month[32];
	int applied = 0, days;
	PGconn *admin, *c;
	PGresult *r;
	int64_t start_ms;
	time_t tnow = time(NULL);
	struct tm tm;
	bool loaded = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--toy") == 0) {
			sc.events = 5000;
			sc.people = 40;
			sc.teams = 4;
		} else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
			sc.events = strtol(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
			keep = argv[++i];
		} else {
			fprintf(stderr, "usage: bench-reports [--toy] [--events N] [--keep DBNAME]\n");
			return 2;
		}
	}
	admin = PQconnectdb("");
	if (PQstatus(admin) != CONNECTION_OK) {
		die(admin, "could not connect (tests/run provides PG*)");
	}
	if (keep != NULL) {
		snprintf(dbname, sizeof(dbname), "%.60s", keep);
	} else {
		snprintf(dbname, sizeof(dbname), "aimeter_bench_rep_%d", (int)getpid());
	}
	snprintf(sql, sizeof(sql), "SELECT 1 FROM pg_database WHERE datname = '%s'", dbname);
	r = exec_ok(admin, sql);
	loaded = PQntuples(r) == 1;
	PQclear(r);
	if (!loaded) {
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
		run(admin, sql);
	}
	snprintf(conninfo, sizeof(conninfo), "dbname=%s", dbname);
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		die(c, "could not connect to the bench database");
	}
	if (migrate_run(c, &applied, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench-reports: migrate: %s\n", err);
		return 1;
	}
	run(c, "SET client_min_messages = warning");

	/* Three whole months ending with the last complete one. */
	gmtime_r(&tnow, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon -= 3;
	start_ms = (int64_t)timegm(&tm) * 1000;
	tm.tm_mon += 3;
	days = (int)(((int64_t)timegm(&tm) * 1000 - start_ms) / 86400000);

	r = exec_ok(c, "SELECT count(*) FROM aimeter.ingest_batches");
	loaded = strcmp(PQgetvalue(r, 0, 0), "0") != 0;
	PQclear(r);
	if (loaded) {
		r = exec_ok(c, "SELECT count(*) FROM aimeter.usage_events");
		sc.events = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	printf("bench-reports: %ld events, %d people, %d teams, 3 months%s\n", sc.events,
	       sc.people, sc.teams, loaded ? " (already loaded)" : "");
	if (!loaded) {
		load(c, &sc, start_ms, days);
	}

	/* The ISO week in the middle of the span and the middle month. */
	{
		time_t mid = (time_t)(start_ms / 1000) + (time_t)days * 86400 / 2;
		struct tm mt;

		gmtime_r(&mid, &mt);
		strftime(week, sizeof(week), "%G-W%V", &mt);
		snprintf(month, sizeof(month), "%04d-%02d-01", mt.tm_year + 1900, mt.tm_mon + 1);
	}
	{
		char q_rep[512], q_base[1024], q_exp[4096], q_raw[1024], monday[16];
		double t_rep, t_base, t_exp, t_raw;
		long n_rep = 0, n_base = 0, n_exp = 0, n_raw = 0;

		snprintf(sql, sizeof(sql), "SELECT to_char(to_date('%s', 'IYYY-\"W\"IW'), 'YYYY-MM-DD')",
			 week);
		r = exec_ok(c, sql);
		snprintf(monday, sizeof(monday), "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		/* What `aimeterctl report adoption --week` sends. */
		snprintf(q_rep, sizeof(q_rep),
			 "SELECT team, headcount, active_people, active_share, person_days,"
			 " new_people, returning_people, retained_people, churned_people, light,"
			 " moderate, heavy, inactive FROM reporting.adoption_summary('week', '%s')",
			 monday);
		/* Baseline: active people per team that week, straight from raw events. */
		snprintf(q_base, sizeof(q_base),
			 "SELECT team_id, count(DISTINCT person_key) FROM aimeter.usage_events"
			 " WHERE ts >= '%s'::timestamptz AND ts < '%s'::timestamptz + interval '7 days'"
			 " GROUP BY team_id",
			 monday, monday);
		/* What `aimeterctl export focus --month` sends (the column list aside). */
		snprintf(q_exp, sizeof(q_exp),
			 "COPY (SELECT * FROM reporting.focus_cost_and_usage WHERE"
			 " \"BillingPeriodStart\" = '%s'::timestamp AT TIME ZONE 'UTC')"
			 " TO STDOUT WITH (FORMAT csv, HEADER)",
			 month);
		/* Baseline: reading the month's raw events once (sum of cost). */
		snprintf(q_raw, sizeof(q_raw),
			 "SELECT team_id, model, sum(cost) FROM aimeter.usage_events"
			 " WHERE ts >= '%s'::timestamptz AND ts < '%s'::timestamptz + interval '1 month'"
			 " GROUP BY 1, 2",
			 month, month);
		t_rep = time_query(c, q_rep, 5, &n_rep);
		t_base = time_query(c, q_base, 3, &n_base);
		t_exp = time_query(c, q_exp, 3, &n_exp);
		t_raw = time_query(c, q_raw, 2, &n_raw);
		printf("  report adoption --week %s:  %8.1f ms  (%ld rows; target < 50 ms)\n", week,
		       t_rep * 1e3, n_rep);
		printf("    baseline, WAU from raw events: %8.1f ms  (%ld rows)  ratio %.1fx faster\n",
		       t_base * 1e3, n_base, t_base / t_rep);
		printf("  export focus --month %.7s:    %8.1f ms  (%ld CSV lines)\n", month,
		       t_exp * 1e3, n_exp);
		printf("    baseline, month's raw cost:    %8.1f ms  (%ld rows)  ratio %.1fx faster\n",
		       t_raw * 1e3, n_raw, t_raw / t_exp);
	}
	PQfinish(c);
	if (keep == NULL) {
		snprintf(sql, sizeof(sql), "DROP DATABASE %s", dbname);
		run(admin, sql);
	}
	PQfinish(admin);
	return 0;
}
