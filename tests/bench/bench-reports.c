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

#include "bench-data.h"
#include "bench-util.h"

#define TAG 0xce /* the last byte of this bench's event and batch ids */

static const struct bench_model mix[] = {
	{ "claude-sonnet-4-5-20250929", "claude-code", 1, 50 },
	{ "claude-opus-4-6", "claude-code", 1, 65 },
	{ "claude-haiku-4-5-20251001", "claude-code", 1, 80 },
	{ "gpt-5-codex", "codex", 2, 100 },
};

struct run {
	const struct bench_scale *sc;
	int64_t start_ms;
	int days;
};

/* Person p is active on day d about 6 days in 10. */
static bool
active(int p, int d)
{
	uint64_t s = ((uint64_t)p << 20 | (uint64_t)d) * 0x9e3779b97f4a7c15ull + 7;

	for (int k = 0; k < 2; k++) {
		bench_rnd(&s);
	}
	return s % 10 < 6;
}

/* Event i: on its day, by a person active that day. */
static void
make_event(long i, const void *ctx, am_usage_event *ev, uint8_t id[16], int *ret_person)
{
	const struct run *run = ctx;
	const struct bench_scale *sc = run->sc;
	uint64_t s = bench_event_start(i, TAG, ev, id);
	int day, p;

	/* In time order, as agents ship them. */
	day = (int)((double)run->days * (double)i / (double)sc->events);
	ev->ts_ms = run->start_ms + (int64_t)day * 86400000 + (int64_t)(bench_rnd(&s) % 86400000);
	p = (int)(bench_rnd(&s) % (uint64_t)sc->people);
	for (int k = 0; k < sc->people && !active(p, day); k++) {
		p = (p + 1) % sc->people;
	}
	bench_event_model(ev, mix, (int)(bench_rnd(&s) % 100));
	bench_event_tokens(ev, &s);
	*ret_person = p;
}

static void
load(PGconn *c, const struct run *run)
{
	const struct bench_scale *sc = run->sc;
	uint8_t (*macs)[32];
	char sql[2048];
	double secs;
	long inserted;

	bench_load_teams(c, sc);
	bench_exec(c, "INSERT INTO aimeter.prices (model_pattern, provider, input_per_mtok,"
		      " output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok,"
		      " cache_read_per_mtok, web_search_per_1k) VALUES"
		      " ('claude-sonnet-4-5*', 'anthropic', 3, 15, 3.75, 6, 0.3, 10),"
		      " ('claude-opus-4-6*', 'anthropic', 5, 25, 6.25, 10, 0.5, 10),"
		      " ('claude-haiku-4-5*', 'anthropic', 1, 5, 1.25, 2, 0.1, 10),"
		      " ('gpt-5-codex*', 'openai', 1.25, 10, NULL, NULL, 0.125, NULL)");
	macs = bench_load_people(c, sc, NULL);
	inserted = bench_load_events(c, sc, TAG, make_event, run, macs, &secs);
	printf("  load through the write path:   %10.0f events/s  (%.1f s, %ld inserted)\n",
	       (double)sc->events / secs, secs, inserted);
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
		 (long long)(run->start_ms / 1000), (long long)(run->start_ms / 1000));
	bench_exec(c, sql);
	bench_exec(c, "VACUUM ANALYZE");
}

/* Adoption for the week and FOCUS for the month in the middle, each beside its baseline. */
static void
time_reports(PGconn *c, const struct run *run)
{
	char sql[256], week[16], month[32], q_rep[512], q_base[1024], q_exp[4096], q_raw[1024],
		monday[16];
	time_t mid = (time_t)(run->start_ms / 1000) + (time_t)run->days * 86400 / 2;
	struct tm mt;
	double t_rep, t_base, t_exp, t_raw;
	long n_rep = 0, n_base = 0, n_exp = 0, n_raw = 0;
	PGresult *r;

	gmtime_r(&mid, &mt);
	strftime(week, sizeof(week), "%G-W%V", &mt);
	snprintf(month, sizeof(month), "%04d-%02d-01", mt.tm_year + 1900, mt.tm_mon + 1);
	snprintf(sql, sizeof(sql), "SELECT to_char(to_date('%s', 'IYYY-\"W\"IW'), 'YYYY-MM-DD')",
		 week);
	r = bench_query(c, sql);
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
	t_rep = bench_time_query(c, q_rep, 5, &n_rep);
	t_base = bench_time_query(c, q_base, 3, &n_base);
	t_exp = bench_time_query(c, q_exp, 3, &n_exp);
	t_raw = bench_time_query(c, q_raw, 2, &n_raw);
	printf("  report adoption --week %s:  %8.1f ms  (%ld rows; target < 50 ms)\n", week,
	       t_rep * 1e3, n_rep);
	printf("    baseline, WAU from raw events: %8.1f ms  (%ld rows)  ratio %.1fx faster\n",
	       t_base * 1e3, n_base, t_base / t_rep);
	printf("  export focus --month %.7s:    %8.1f ms  (%ld CSV lines)\n", month, t_exp * 1e3,
	       n_exp);
	printf("    baseline, month's raw cost:    %8.1f ms  (%ld rows)  ratio %.1fx faster\n",
	       t_raw * 1e3, n_raw, t_raw / t_exp);
}

int
main(int argc, char **argv)
{
	struct bench_scale sc = { 10000000, 2000, 100 };
	struct run run = { &sc, 0, 0 };
	const char *keep = NULL;
	char dbname[64];
	int64_t end_ms;
	PGconn *admin, *c;
	PGresult *r;
	bool loaded;

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
	admin = bench_connect_admin("bench-reports");
	if (keep != NULL) {
		snprintf(dbname, sizeof(dbname), "%.60s", keep);
	} else {
		snprintf(dbname, sizeof(dbname), "aimeter_bench_rep_%d", (int)getpid());
	}
	c = bench_open_db(admin, dbname);
	run.start_ms = bench_three_months(&end_ms);
	run.days = (int)((end_ms - run.start_ms) / 86400000);

	/* A kept database that is already loaded is measured as it is. */
	r = bench_query(c, "SELECT count(*) FROM aimeter.ingest_batches");
	loaded = strcmp(PQgetvalue(r, 0, 0), "0") != 0;
	PQclear(r);
	if (loaded) {
		r = bench_query(c, "SELECT count(*) FROM aimeter.usage_events");
		sc.events = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	printf("bench-reports: %ld events, %d people, %d teams, 3 months%s\n", sc.events,
	       sc.people, sc.teams, loaded ? " (already loaded)" : "");
	if (!loaded) {
		load(c, &run);
	}
	time_reports(c, &run);
	PQfinish(c);
	if (keep == NULL) {
		bench_drop_db(admin, dbname);
	}
	PQfinish(admin);
	return 0;
}
