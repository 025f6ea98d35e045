/*
 * bench-db.c: the write path at scale. Loads N events (2,000 people in 100
 * teams, 3 months) through COPY + aimeter.ingest_staged() in 1,000-event
 * batches, beside a plain COPY of the same rows, in the same batches, into
 * the same table in the same run; then times `report spend` for one month
 * on the rollups beside the same figures computed from the raw events.
 * Prints figures only; never asserts timings.
 *
 * usage: bench-db [--toy] [--events N]
 * Uses the PostgreSQL in PG* variables (tests/run starts one) and a database
 * of its own, dropped at the end.
 */
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
				      "claude-haiku-4-5-20251001", "gpt-5-codex", "gpt-5.2",
				      "unknown-model-x" };

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
	fprintf(stderr, "bench-db: %s: %s", what, c != NULL ? PQerrorMessage(c) : "\n");
	exit(1);
}

static void
exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		die(c, sql);
	}
	PQclear(r);
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

/* Event i of the run: deterministic, so both loads see the same rows. */
static void
make_event(long i, const struct scale *sc, int64_t start_ms, int64_t span_ms, am_usage_event *ev,
	   uint8_t id[16], int *ret_person)
{
	uint64_t s = (uint64_t)i * 0x9e3779b97f4a7c15ull + 1;
	int m;

	for (int k = 0; k < 3; k++) {
		rnd(&s);
	}
	aimeter__v1__usage_event__init(ev);
	memset(id, 0, 16);
	memcpy(id, &i, sizeof(i));
	id[15] = 0xbe;
	ev->event_id.data = id;
	ev->event_id.len = 16;
	/* In time order, as agents ship them. */
	ev->ts_ms = start_ms + (int64_t)((double)span_ms * (double)i / (double)sc->events);
	m = (int)(rnd(&s) % 100);
	m = m < 45 ? 0 : m < 60 ? 1 : m < 70 ? 2 : m < 85 ? 3 : m < 99 ? 4 : 5;
	ev->model = (char *)models[m];
	ev->tool = (char *)(m == 3 || m == 4 ? "codex" : "claude-code");
	ev->session = (char *)"4b1d0c6e-5d7e-4a43-8f0a-2c9b3f1e7a55";
	ev->project = (char *)"6f2d9c1b8a7e4d3c2b1a0f9e8d7c6b5a";
	ev->billing_mode = m < 3 ? 1 : 2;
	ev->input_tokens = rnd(&s) % 5000;
	ev->output_tokens = rnd(&s) % 4000;
	ev->cache_read_tokens = rnd(&s) % 250000;
	ev->cache_write_5m_tokens = rnd(&s) % 8000;
	ev->cache_write_1h_tokens = (rnd(&s) % 10 == 0) ? rnd(&s) % 20000 : 0;
	ev->web_search_requests = (rnd(&s) % 50 == 0) ? 1 : 0;
	ev->speed = (char *)((rnd(&s) % 20 == 0) ? "fast" : "");
	ev->service_tier = (char *)"";
	*ret_person = (int)(rnd(&s) % (uint64_t)sc->people);
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		sprintf(out + 2 * i, "%02x", p[i]);
	}
}

static double
time_query(PGconn *c, const char *sql, int runs, int *ret_rows)
{
	double best = 1e9;

	for (int k = 0; k < runs; k++) {
		double t0 = now(), t;
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			die(c, sql);
		}
		t = now() - t0;
		*ret_rows = PQntuples(r);
		PQclear(r);
		best = t < best ? t : best;
	}
	return best;
}

int
main(int argc, char **argv)
{
	struct scale sc = { 10000000, 2000, 100 };
	static const uint8_t key[32] = "aimeter-bench-person-key-0123456";
	uint8_t (*macs)[32];
	char dbname[64], conninfo[128], err[512], sql[1024], *line;
	struct writepath_buf bbuf, ebuf, pbuf;
	int64_t start_ms, span_ms;
	double t0, t_wp, t_copy;
	int applied = 0, rows = 0;
	PGconn *admin, *c;
	long inserted = 0;
	time_t tnow = time(NULL);
	struct tm tm;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--toy") == 0) {
			sc.events = 5000;
			sc.people = 20;
			sc.teams = 3;
		} else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
			sc.events = strtol(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: bench-db [--toy] [--events N]\n");
			return 2;
		}
	}
	admin = PQconnectdb("");
	if (PQstatus(admin) != CONNECTION_OK) {
		die(admin, "could not connect (tests/run provides PG*)");
	}
	snprintf(dbname, sizeof(dbname), "aimeter_bench_%d", (int)getpid());
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	exec_ok(admin, sql);
	snprintf(conninfo, sizeof(conninfo), "dbname=%s", dbname);
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		die(c, "could not connect to the bench database");
	}
	if (migrate_run(c, &applied, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench-db: migrate: %s\n", err);
		return 1;
	}
	exec_ok(c, "SET client_min_messages = warning");

	/* Three whole months ending with the last complete one. */
	gmtime_r(&tnow, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon -= 3;
	start_ms = (int64_t)timegm(&tm) * 1000;
	tm.tm_mon += 3;
	span_ms = (int64_t)timegm(&tm) * 1000 - start_ms - 1;

	/* Directory and prices. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO aimeter.cost_centers (code) SELECT 'CC-' || g FROM generate_series(1, %d) g;"
		 "INSERT INTO aimeter.teams (name) SELECT 'team-' || g FROM generate_series(1, %d) g;"
		 "INSERT INTO aimeter.team_cost_centers (team_id, cost_center_id)"
		 " SELECT t.team_id, c.cost_center_id FROM aimeter.teams t JOIN aimeter.cost_centers c"
		 " ON c.code = 'CC-' || ((t.team_id %% %d) + 1) WHERE t.team_id > 0",
		 sc.teams / 4 + 1, sc.teams, sc.teams / 4 + 1);
	exec_ok(c, sql);
	exec_ok(c, "INSERT INTO aimeter.prices (model_pattern, input_per_mtok, output_per_mtok,"
		   " cache_write_5m_per_mtok, cache_write_1h_per_mtok, cache_read_per_mtok,"
		   " long_context_threshold_tokens, long_context_input_per_mtok,"
		   " long_context_output_per_mtok, web_search_per_1k, fast_multiplier) VALUES"
		   " ('claude-sonnet-4-5*', 3, 15, 3.75, 6, 0.3, 200000, 6, 22.5, 10, 1),"
		   " ('claude-opus-4-6*', 5, 25, 6.25, 10, 0.5, NULL, NULL, NULL, 10, 6),"
		   " ('claude-haiku-4-5*', 1, 5, 1.25, 2, 0.1, NULL, NULL, NULL, 10, 1),"
		   " ('gpt-5-codex*', 1.25, 10, NULL, NULL, 0.125, NULL, NULL, NULL, NULL, 1),"
		   " ('gpt-5.2*', 1.75, 14, NULL, NULL, 0.175, NULL, NULL, NULL, NULL, 1)");
	macs = calloc((size_t)sc.people, 32);
	writepath_buf_init(&pbuf, 64u << 20);
	line = malloc(512);
	if (macs == NULL || line == NULL) {
		die(NULL, "out of memory");
	}
	for (int p = 0; p < sc.people; p++) {
		char ident[64], hx[65];
		int len;

		snprintf(ident, sizeof(ident), "person%d@example.com", p);
		identity_hmac(key, sizeof(key), ident, macs[p]);
		hex(macs[p], 32, hx);
		/* A quarter of the people change team mid-way through the middle month. */
		len = snprintf(line, 512, "%s\t%s\t%d\t%d\n", hx, ident, p % sc.teams + 1,
			       p % 4 == 0 ? (p + 1) % sc.teams + 1 : p % sc.teams + 1);
		/* Plain append: people rows are not COPY-escaped event rows. */
		{
			char *grown = realloc(pbuf.data, pbuf.len + (size_t)len + 1);
			if (grown == NULL) {
				die(NULL, "out of memory");
			}
			pbuf.data = grown;
			memcpy(pbuf.data + pbuf.len, line, (size_t)len + 1);
			pbuf.len += (size_t)len;
			pbuf.cap = pbuf.len + 1;
		}
	}
	exec_ok(c, "CREATE TEMP TABLE bp (mac text, ident text, t1 int, t2 int)");
	copy_in(c, "COPY bp FROM STDIN", pbuf.data, pbuf.len);
	{
		/* The switch date: the 15th of the middle month. */
		char mid[32];
		time_t ms = (time_t)((start_ms + span_ms / 2) / 1000);
		struct tm mt;

		gmtime_r(&ms, &mt);
		snprintf(mid, sizeof(mid), "%04d-%02d-15", mt.tm_year + 1900, mt.tm_mon + 1);
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
			 mid, mid);
	}
	exec_ok(c, sql);
	writepath_buf_finish(&pbuf);
	exec_ok(c, "ANALYZE");
	for (int k = 0; k < 3; k++) {
		char month[32];
		time_t ms = (time_t)((start_ms + span_ms / 6 + (span_ms / 3) * k) / 1000);
		struct tm mt;

		gmtime_r(&ms, &mt);
		snprintf(month, sizeof(month), "%04d-%02d-01", mt.tm_year + 1900, mt.tm_mon + 1);
		snprintf(sql, sizeof(sql), "SELECT aimeter.ensure_partition('%s')", month);
		exec_ok(c, sql);
	}

	writepath_buf_init(&bbuf, 1u << 16);
	writepath_buf_init(&ebuf, 64u << 20);

	/* Baseline: the same rows, plain COPY into usage_events, same batches. */
	t0 = now();
	for (long i = 0; i < sc.events;) {
		writepath_buf_reset(&ebuf);
		for (int k = 0; k < BATCH && i < sc.events; k++, i++) {
			am_usage_event ev;
			uint8_t id[16];
			char hx[65], idh[33], ts[40];
			int person, len;
			time_t secs;
			struct tm et;

			make_event(i, &sc, start_ms, span_ms, &ev, id, &person);
			hex(macs[person], 32, hx);
			hex(id, 16, idh);
			secs = (time_t)(ev.ts_ms / 1000);
			gmtime_r(&secs, &et);
			strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S+00", &et);
			len = snprintf(line, 512,
				       "\\\\x%s\t%s\t%s\t%s\t%s\t%s\t\\\\x%s\t%d\t%d\t0\t%s\t%s\t%llu\t%llu"
				       "\t%llu\t%llu\t%llu\t0\t%llu\n",
				       idh, ts, ev.tool, ev.model, ev.session, ev.project, hx,
				       person % sc.teams + 1, 1, writepath_billing_mode((int)ev.billing_mode),
				       ev.speed, (unsigned long long)ev.input_tokens,
				       (unsigned long long)ev.output_tokens,
				       (unsigned long long)ev.cache_write_5m_tokens,
				       (unsigned long long)ev.cache_write_1h_tokens,
				       (unsigned long long)ev.cache_read_tokens,
				       (unsigned long long)ev.web_search_requests);
			if (ebuf.cap < ebuf.len + (size_t)len + 1) {
				char *grown = realloc(ebuf.data, ebuf.len + (size_t)len + 1 + (1u << 20));
				if (grown == NULL) {
					die(NULL, "out of memory");
				}
				ebuf.data = grown;
				ebuf.cap = ebuf.len + (size_t)len + 1 + (1u << 20);
			}
			memcpy(ebuf.data + ebuf.len, line, (size_t)len + 1);
			ebuf.len += (size_t)len;
		}
		copy_in(c,
			"COPY aimeter.usage_events (event_id, ts, tool, model, session, project,"
			" person_key, team_id, cost_center_id, batch_ref, billing_mode, speed,"
			" input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,"
			" cache_read_tokens, reasoning_tokens, web_search_requests) FROM STDIN",
			ebuf.data, ebuf.len);
	}
	t_copy = now() - t0;
	exec_ok(c, "TRUNCATE aimeter.usage_events");
	exec_ok(c, "CHECKPOINT");

	/* The write path, as the collector drives it. */
	exec_ok(c, WRITEPATH_SQL_CREATE_STAGE);
	t0 = now();
	for (long i = 0, b = 0; i < sc.events; b++) {
		uint8_t bid[16] = { 0 };
		PGresult *r;

		memcpy(bid, &b, sizeof(b));
		writepath_buf_reset(&bbuf);
		writepath_buf_reset(&ebuf);
		writepath_format_batch(&bbuf, 0, "7f3c9a10-5b2e-4c61-9d0a-1e2f3a4b5c6d", bid, 16, BATCH,
				       0);
		for (int k = 0; k < BATCH && i < sc.events; k++, i++) {
			am_usage_event ev;
			uint8_t id[16];
			int person;

			make_event(i, &sc, start_ms, span_ms, &ev, id, &person);
			if (writepath_format_event(&ebuf, 0, k, &ev, macs[person], NULL) < 0) {
				die(NULL, "staging buffer full");
			}
		}
		exec_ok(c, "BEGIN");
		copy_in(c, WRITEPATH_SQL_COPY_BATCH, bbuf.data, bbuf.len);
		copy_in(c, WRITEPATH_SQL_COPY_EVENTS, ebuf.data, ebuf.len);
		r = PQexec(c, WRITEPATH_SQL_INGEST);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			die(c, "ingest_staged");
		}
		inserted += strtol(PQgetvalue(r, 0, 1), NULL, 10);
		PQclear(r);
		exec_ok(c, "COMMIT");
	}
	t_wp = now() - t0;
	exec_ok(c, "ANALYZE");

	printf("bench-db: %ld events, %d people, %d teams, 3 months, batches of %d\n", sc.events,
	       sc.people, sc.teams, BATCH);
	printf("  plain COPY into usage_events:  %10.0f rows/s  (%.1f s)\n",
	       (double)sc.events / t_copy, t_copy);
	printf("  write path (ingest_staged):    %10.0f rows/s  (%.1f s, %ld inserted)  "
	       "ratio %.2fx of plain COPY\n",
	       (double)sc.events / t_wp, t_wp, inserted, t_copy / t_wp);
	{
		char month[32], q1[512], q2[1024];
		time_t ms = (time_t)((start_ms + span_ms / 2) / 1000);
		struct tm mt;
		double tr, traw;
		int rows_raw = 0;

		gmtime_r(&ms, &mt);
		snprintf(month, sizeof(month), "%04d-%02d-01", mt.tm_year + 1900, mt.tm_mon + 1);
		/* What `aimeterctl report spend --by team` sends. */
		snprintf(q1, sizeof(q1),
			 "SELECT team, events, round(cost_usd, 2), round(subscription_usd, 2),"
			 " unpriced_events FROM reporting.spend_by_team WHERE month = '%s'"
			 " ORDER BY team = 'unassigned', cost_usd DESC, team",
			 month);
		snprintf(q2, sizeof(q2),
			 "SELECT t.name, count(*), round(sum(e.cost), 2),"
			 " round(coalesce(sum(e.cost) FILTER (WHERE e.billing_mode = 'subscription'), 0), 2),"
			 " count(*) FILTER (WHERE e.price_id IS NULL)"
			 " FROM aimeter.usage_events e JOIN aimeter.teams t USING (team_id)"
			 " WHERE e.ts >= '%s' AND e.ts < '%s'::date + interval '1 month'"
			 " GROUP BY t.name ORDER BY 3 DESC",
			 month, month);
		tr = time_query(c, q1, 5, &rows);
		traw = time_query(c, q2, sc.events > 100000 ? 1 : 3, &rows_raw);
		printf("  report spend --by team %.7s:  %8.2f ms on the rollups (%d rows); "
		       "%.0f ms from raw events (%.0fx)\n",
		       month, tr * 1000, rows, traw * 1000, traw / tr);
	}
	PQfinish(c);
	snprintf(sql, sizeof(sql), "DROP DATABASE %s", dbname);
	exec_ok(admin, sql);
	PQfinish(admin);
	writepath_buf_finish(&bbuf);
	writepath_buf_finish(&ebuf);
	free(macs);
	free(line);
	return 0;
}
