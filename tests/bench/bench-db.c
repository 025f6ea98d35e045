/*
 * bench-db.c: the write path at scale. Loads N events (2,000 people in 100
 * teams, 3 months) through COPY + aimeter.ingest_staged() in 1,000-event
 * batches, beside a plain COPY of the same rows, in the same batches, into
 * the same table in the same run; then times `report spend` for one month
 * on the rollups beside the same figures computed from the raw events.
 * The write path runs in two shapes over the same events: the project's
 * reference (one device sending every person's events, 1,000-event
 * batches) and agents as they ship (one device per person, batches of
 * AGENT_BATCH events, the collector's default group of GROUP_BATCHES
 * batches per transaction). Both defer the fold under load and fold on the
 * collector's schedule (WRITEPATH_FOLD_EVERY_*) and at the end, inside the
 * timed section, as the collector does.
 * Prints figures only; never asserts timings.
 *
 * usage: bench-db [--toy] [--events N] [--first M] [--keep]
 * --first M loads only the first M events of the N-event run (same times,
 * so the same events per person and day): the rates of a large run's
 * beginning, in a fraction of its time.
 * Uses the PostgreSQL in PG* variables (tests/run starts one) and a database
 * of its own, dropped at the end.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bench-data.h"
#include "bench-util.h"
#include "writepath.h"

#define TAG 0xbe /* the last byte of this bench's event and batch ids */
#define AGENT_BATCH 125  /* events per agent batch in the per-person shape */
#define GROUP_BATCHES 8  /* the collector's database.group_max_batches default */

static const struct bench_model mix[] = {
	{ "claude-sonnet-4-5-20250929", "claude-code", 1, 45 },
	{ "claude-opus-4-6", "claude-code", 1, 60 },
	{ "claude-haiku-4-5-20251001", "claude-code", 1, 70 },
	{ "gpt-5-codex", "codex", 2, 85 },
	{ "gpt-5.2", "codex", 2, 99 },
	{ "unknown-model-x", "claude-code", 2, 100 }, /* never priced */
};

struct run {
	const struct bench_scale *sc;
	int64_t start_ms, span_ms;
};

/* Event i of the run: deterministic, so both loads see the same rows. */
static void
make_event(long i, const void *ctx, am_usage_event *ev, uint8_t id[16], int *ret_person)
{
	const struct run *run = ctx;
	uint64_t s = bench_event_start(i, TAG, ev, id);

	/* In time order, as agents ship them. */
	ev->ts_ms = run->start_ms +
		    (int64_t)((double)run->span_ms * (double)i / (double)run->sc->events);
	bench_event_model(ev, mix, (int)(bench_rnd(&s) % 100));
	bench_event_tokens(ev, &s);
	ev->speed = (char *)((bench_rnd(&s) % 20 == 0) ? "fast" : "");
	*ret_person = (int)(bench_rnd(&s) % (uint64_t)run->sc->people);
}

/* Baseline: events 0 to n - 1, plain COPY into usage_events, same batches. */
static void
load_plain_copy(PGconn *c, const struct run *run, long n, uint8_t (*macs)[32])
{
	const struct bench_scale *sc = run->sc;
	struct writepath_buf ebuf;
	char line[512];

	writepath_buf_init(&ebuf, 64u << 20);
	for (long i = 0; i < n;) {
		writepath_buf_reset(&ebuf);
		for (int k = 0; k < BENCH_BATCH && i < n; k++, i++) {
			am_usage_event ev;
			uint8_t id[16];
			char hx[65], idh[33], ts[40];
			int person, len;
			time_t secs;
			struct tm et;

			make_event(i, run, &ev, id, &person);
			hex_encode(macs[person], 32, hx);
			hex_encode(id, 16, idh);
			secs = (time_t)(ev.ts_ms / 1000);
			gmtime_r(&secs, &et);
			strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S+00", &et);
			len = snprintf(line, sizeof(line),
				       "\\\\x%s\t%s\t%s\t%s\t%s\t%s\t\\\\x%s\t%d\t%d\t0\t%s\t%s\t%llu\t%llu"
				       "\t%llu\t%llu\t%llu\t0\t%llu\n",
				       idh, ts, ev.tool, ev.model, ev.session, ev.project, hx,
				       person % sc->teams + 1, 1, writepath_billing_mode((int)ev.billing_mode),
				       ev.speed, (unsigned long long)ev.input_tokens,
				       (unsigned long long)ev.output_tokens,
				       (unsigned long long)ev.cache_write_5m_tokens,
				       (unsigned long long)ev.cache_write_1h_tokens,
				       (unsigned long long)ev.cache_read_tokens,
				       (unsigned long long)ev.web_search_requests);
			if (ebuf.cap < ebuf.len + (size_t)len + 1) {
				char *grown = realloc(ebuf.data, ebuf.len + (size_t)len + 1 + (1u << 20));
				if (grown == NULL) {
					bench_die(NULL, "out of memory");
				}
				ebuf.data = grown;
				ebuf.cap = ebuf.len + (size_t)len + 1 + (1u << 20);
			}
			memcpy(ebuf.data + ebuf.len, line, (size_t)len + 1);
			ebuf.len += (size_t)len;
		}
		bench_copy(c,
			   "COPY aimeter.usage_events (event_id, ts, tool, model, session, project,"
			   " person_key, team_id, cost_center_id, batch_ref, billing_mode, speed,"
			   " input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens,"
			   " cache_read_tokens, reasoning_tokens, web_search_requests) FROM STDIN",
			   ebuf.data, ebuf.len);
	}
	writepath_buf_finish(&ebuf);
}

/* Per-person shape: the device of a person ships its events AGENT_BATCH at a time. */
struct agents {
	const struct run *run;
	uint8_t (*macs)[32];
	long *held;         /* AGENT_BATCH event numbers per person */
	int *nheld, *nsent; /* events held, batches sent, per person */
	int ready[GROUP_BATCHES], nready;
	struct writepath_buf bbuf, ebuf;
	int since_fold;
	double t_fold;
	long inserted;
};

static void
agents_write(PGconn *c, struct agents *a)
{
	PGresult *r;

	writepath_buf_reset(&a->bbuf);
	writepath_buf_reset(&a->ebuf);
	for (int k = 0; k < a->nready; k++) {
		int p = a->ready[k];
		char dev[40];
		uint8_t bid[16] = { 0 };

		snprintf(dev, sizeof(dev), "7f3c9a10-5b2e-4c61-9d0a-%012x", p);
		memcpy(bid, &p, sizeof(p));
		memcpy(bid + 4, &a->nsent[p], sizeof(a->nsent[p]));
		bid[14] = 1;
		bid[15] = TAG;
		a->nsent[p]++;
		writepath_format_batch(&a->bbuf, k, dev, bid, 16, (uint64_t)a->nheld[p], 0);
		for (int j = 0; j < a->nheld[p]; j++) {
			am_usage_event ev;
			uint8_t id[16];
			int person;

			make_event(a->held[(long)p * AGENT_BATCH + j], a->run, &ev, id, &person);
			if (writepath_format_event(&a->ebuf, k, j, &ev, a->macs[person], NULL, NULL) <
			    0) {
				bench_die(NULL, "staging buffer full");
			}
		}
		a->nheld[p] = 0;
	}
	bench_exec(c, WRITEPATH_SQL_BEGIN_DEFERRED);
	bench_copy(c, WRITEPATH_SQL_COPY_BATCH, a->bbuf.data, a->bbuf.len);
	bench_copy(c, WRITEPATH_SQL_COPY_EVENTS, a->ebuf.data, a->ebuf.len);
	r = bench_query(c, WRITEPATH_SQL_INGEST);
	for (int k = 0; k < PQntuples(r); k++) {
		a->inserted += strtol(PQgetvalue(r, k, 1), NULL, 10);
	}
	PQclear(r);
	bench_exec(c, "COMMIT");
	a->nready = 0;
	if (++a->since_fold >= WRITEPATH_FOLD_EVERY_BATCHES ||
	    (bench_now() - a->t_fold) * 1000 >= WRITEPATH_FOLD_EVERY_MS) {
		bench_exec(c, WRITEPATH_SQL_FOLD);
		a->since_fold = 0;
		a->t_fold = bench_now();
	}
}

/* Events 0 to n - 1 in the per-person shape; returns the events inserted. */
static long
load_per_person(PGconn *c, const struct run *run, long n, uint8_t (*macs)[32], double *ret_s)
{
	int people = run->sc->people;
	struct agents a = { .run = run, .macs = macs };
	double t0;

	a.held = calloc((size_t)people * AGENT_BATCH, sizeof(*a.held));
	a.nheld = calloc((size_t)people, sizeof(*a.nheld));
	a.nsent = calloc((size_t)people, sizeof(*a.nsent));
	if (a.held == NULL || a.nheld == NULL || a.nsent == NULL) {
		bench_die(NULL, "out of memory");
	}
	writepath_buf_init(&a.bbuf, 1u << 16);
	writepath_buf_init(&a.ebuf, 64u << 20);
	bench_exec(c, WRITEPATH_SQL_CREATE_STAGE);
	t0 = a.t_fold = bench_now();
	for (long i = 0; i < n; i++) {
		am_usage_event ev;
		uint8_t id[16];
		int p;

		make_event(i, run, &ev, id, &p);
		if (a.nheld[p] == AGENT_BATCH) {
			/* Its batch waits in a group not yet full: the collector
			 * would take what is queued before the next one came. */
			agents_write(c, &a);
		}
		a.held[(long)p * AGENT_BATCH + a.nheld[p]++] = i;
		if (a.nheld[p] == AGENT_BATCH) {
			a.ready[a.nready++] = p;
			if (a.nready == GROUP_BATCHES) {
				agents_write(c, &a);
			}
		}
	}
	/* What is left: every agent ships its last, partial batch. */
	for (int p = 0; p < people; p++) {
		if (a.nheld[p] > 0 && a.nheld[p] < AGENT_BATCH) {
			a.ready[a.nready++] = p;
			if (a.nready == GROUP_BATCHES) {
				agents_write(c, &a);
			}
		}
	}
	if (a.nready > 0) {
		agents_write(c, &a);
	}
	bench_exec(c, WRITEPATH_SQL_FOLD);
	*ret_s = bench_now() - t0;
	writepath_buf_finish(&a.bbuf);
	writepath_buf_finish(&a.ebuf);
	free(a.held);
	free(a.nheld);
	free(a.nsent);
	return a.inserted;
}

/* `report spend --by team` for the middle month, beside the same from raw events. */
static void
time_report(PGconn *c, const struct run *run)
{
	char month[32], q1[512], q2[1024];
	time_t ms = (time_t)((run->start_ms + run->span_ms / 2) / 1000);
	struct tm mt;
	double tr, traw;
	long rows = 0, rows_raw = 0;

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
	tr = bench_time_query(c, q1, 5, &rows);
	traw = bench_time_query(c, q2, run->sc->events > 100000 ? 1 : 3, &rows_raw);
	printf("  report spend --by team %.7s:  %8.2f ms on the rollups (%ld rows); "
	       "%.0f ms from raw events (%.0fx)\n",
	       month, tr * 1000, rows, traw * 1000, traw / tr);
}

int
main(int argc, char **argv)
{
	struct bench_scale sc = { 10000000, 2000, 100 };
	struct bench_scale load; /* the events loaded: sc, or its first --first */
	struct run run = { &sc, 0, 0 };
	long first = -1;
	bool keep = false; /* leave the database for EXPLAIN */
	uint8_t (*macs)[32];
	char dbname[64], sql[256], mid[32];
	int64_t end_ms;
	double t0, t_wp, t_copy, t_pp, cpu0, cpu_copy, cpu_wp, cpu_pp;
	PGconn *admin, *c;
	long inserted, inserted_pp;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--toy") == 0) {
			sc.events = 5000;
			sc.people = 20;
			sc.teams = 3;
		} else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
			sc.events = strtol(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc) {
			first = strtol(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = true;
		} else {
			fprintf(stderr, "usage: bench-db [--toy] [--events N] [--first M] [--keep]\n");
			return 2;
		}
	}
	load = sc;
	if (first > 0 && first < sc.events) {
		load.events = first;
	}
	admin = bench_connect_admin("bench-db");
	snprintf(dbname, sizeof(dbname), "aimeter_bench_%d", (int)getpid());
	c = bench_open_db(admin, dbname);
	run.start_ms = bench_three_months(&end_ms);
	run.span_ms = end_ms - run.start_ms - 1;

	/* Directory and prices; a quarter of the people change team on the 15th of the middle month. */
	bench_load_teams(c, &sc);
	bench_exec(c, "INSERT INTO aimeter.prices (model_pattern, input_per_mtok, output_per_mtok,"
		      " cache_write_5m_per_mtok, cache_write_1h_per_mtok, cache_read_per_mtok,"
		      " long_context_threshold_tokens, long_context_input_per_mtok,"
		      " long_context_output_per_mtok, web_search_per_1k, fast_multiplier) VALUES"
		      " ('claude-sonnet-4-5*', 3, 15, 3.75, 6, 0.3, 200000, 6, 22.5, 10, 1),"
		      " ('claude-opus-4-6*', 5, 25, 6.25, 10, 0.5, NULL, NULL, NULL, 10, 6),"
		      " ('claude-haiku-4-5*', 1, 5, 1.25, 2, 0.1, NULL, NULL, NULL, 10, 1),"
		      " ('gpt-5-codex*', 1.25, 10, NULL, NULL, 0.125, NULL, NULL, NULL, NULL, 1),"
		      " ('gpt-5.2*', 1.75, 14, NULL, NULL, 0.175, NULL, NULL, NULL, NULL, 1)");
	{
		time_t ms = (time_t)((run.start_ms + run.span_ms / 2) / 1000);
		struct tm mt;

		gmtime_r(&ms, &mt);
		snprintf(mid, sizeof(mid), "%04d-%02d-15", mt.tm_year + 1900, mt.tm_mon + 1);
	}
	macs = bench_load_people(c, &sc, mid);
	for (int k = 0; k < 3; k++) {
		char month[32];
		time_t ms = (time_t)((run.start_ms + run.span_ms / 6 + (run.span_ms / 3) * k) / 1000);
		struct tm mt;

		gmtime_r(&ms, &mt);
		snprintf(month, sizeof(month), "%04d-%02d-01", mt.tm_year + 1900, mt.tm_mon + 1);
		snprintf(sql, sizeof(sql), "SELECT aimeter.ensure_partition('%s')", month);
		bench_exec(c, sql);
	}

	cpu0 = bench_backend_cpu(c);
	t0 = bench_now();
	load_plain_copy(c, &run, load.events, macs);
	t_copy = bench_now() - t0;
	cpu_copy = bench_backend_cpu(c) - cpu0;
	bench_exec(c, "TRUNCATE aimeter.usage_events");
	bench_exec(c, "CHECKPOINT");

	/* The write path, as the collector drives it. */
	cpu0 = bench_backend_cpu(c);
	inserted = bench_load_events(c, &load, TAG, make_event, &run, macs, &t_wp);
	cpu_wp = bench_backend_cpu(c) - cpu0;
	bench_exec(c, "ANALYZE");
	printf("bench-db: %ld events, %d people, %d teams, 3 months, batches of %d\n", sc.events,
	       sc.people, sc.teams, BENCH_BATCH);
	if (load.events < sc.events) {
		printf("  loaded: the first %ld events only (--first)\n", load.events);
	}
	printf("  plain COPY into usage_events:  %10.0f rows/s  (%.1f s)\n",
	       (double)load.events / t_copy, t_copy);
	printf("  write path (ingest_staged):    %10.0f rows/s  (%.1f s, %ld inserted)  "
	       "ratio %.2fx of plain COPY\n",
	       (double)load.events / t_wp, t_wp, inserted, t_copy / t_wp);
	printf("    shape: one device for everyone, %d-event batches, fold deferred, every %d\n"
	       "    transactions or %d ms and at the end (timed)\n",
	       BENCH_BATCH, WRITEPATH_FOLD_EVERY_BATCHES, WRITEPATH_FOLD_EVERY_MS);
	if (cpu0 >= 0 && cpu_copy > 0 && cpu_wp > 0) {
		printf("  server CPU (same run):         %.1f s plain COPY, %.1f s write path  "
		       "ratio %.2fx\n",
		       cpu_copy, cpu_wp, cpu_copy / cpu_wp);
	}
	time_report(c, &run);

	/* The same events again, one device per person; from empty tables. */
	bench_exec(c, "TRUNCATE aimeter.usage_events, aimeter.usage_daily, aimeter.usage_monthly,"
		      " aimeter.activity_daily, aimeter.activity_weekly, aimeter.activity_monthly,"
		      " aimeter.activity_seen, aimeter.device_identities,"
		      " aimeter.device_identity_pending, aimeter.device_minute_calls,"
		      " aimeter.device_day_tokens, aimeter.rejected_events, aimeter.ingest_batches");
	bench_exec(c, "CHECKPOINT");
	cpu0 = bench_backend_cpu(c);
	inserted_pp = load_per_person(c, &run, load.events, macs, &t_pp);
	cpu_pp = bench_backend_cpu(c) - cpu0;

	printf("  write path, per-person shape:  %10.0f rows/s  (%.1f s, %ld inserted)  "
	       "ratio %.2fx of plain COPY\n",
	       (double)load.events / t_pp, t_pp, inserted_pp, t_copy / t_pp);
	printf("    shape: one device per person, %d-event batches, %d per transaction, same fold\n",
	       AGENT_BATCH, GROUP_BATCHES);
	if (cpu0 >= 0 && cpu_copy > 0 && cpu_pp > 0) {
		printf("  server CPU, per-person shape:  %.1f s plain COPY, %.1f s write path  "
		       "ratio %.2fx\n",
		       cpu_copy, cpu_pp, cpu_copy / cpu_pp);
	}
	PQfinish(c);
	if (keep) {
		printf("  kept the database %s (--keep)\n", dbname);
	} else {
		bench_drop_db(admin, dbname);
	}
	PQfinish(admin);
	free(macs);
	return 0;
}
