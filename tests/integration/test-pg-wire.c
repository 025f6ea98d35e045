/*
 * test-pg-wire.c: decoded wire events round-trip through the PostgreSQL that
 * tests/run started (PGHOST, PGPORT, PGUSER, PGDATABASE). No server is a
 * failure, never a skip.
 */
#include <libpq-fe.h>

#include "batch.h"
#include "event_id.h"
#include "test.h"

static PGresult *
exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_COPY_IN) {
		TEST_FAIL_("%s: %s", sql, PQerrorMessage(c));
	}
	return r;
}

int
main(void)
{
	PGconn *c = PQconnectdb("");
	am_batch b;
	am_usage_event ev[3], *ptr[3];
	uint8_t ids[3][16], *wire;
	size_t wire_len;
	am_batch *got;
	struct am_batch_status st;
	char line[256];
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK) {
		TEST_FAIL_("could not connect to the test PostgreSQL: %s", PQerrorMessage(c));
	}
	aimeter__v1__batch__init(&b);
	b.schema_version = AM_SCHEMA_VERSION;
	for (int i = 0; i < 3; i++) {
		char key[16];
		snprintf(key, sizeof(key), "msg_%d", i);
		aimeter__v1__usage_event__init(&ev[i]);
		am_event_id("claude-code", key, strlen(key), ids[i]);
		ev[i].event_id.data = ids[i];
		ev[i].event_id.len = 16;
		ev[i].ts_ms = 1789461000000 + i;
		ev[i].tool = (char *)"claude-code";
		ev[i].output_tokens = 100 * (uint64_t)(i + 1);
		ptr[i] = &ev[i];
	}
	b.events = ptr;
	b.n_events = 3;
	ASSERT_EQ(am_batch_encode(&b, &wire, &wire_len), 0);
	ASSERT_EQ(am_batch_decode(wire, wire_len, NULL, &got, &st), 0);

	PQclear(exec_ok(c, "CREATE TEMP TABLE t (event_id bytea PRIMARY KEY, output bigint)"));
	/* Twice: the second COPY adds nothing once duplicates are dropped. */
	for (int pass = 0; pass < 2; pass++) {
		PQclear(exec_ok(c, "CREATE TEMP TABLE s (event_id bytea, output bigint)"));
		PQclear(exec_ok(c, "COPY s FROM STDIN"));
		for (size_t i = 0; i < got->n_events; i++) {
			char hex[33];
			am_event_id_hex(got->events[i]->event_id.data, hex);
			int n = snprintf(line, sizeof(line), "\\\\x%s\t%llu\n", hex,
					 (unsigned long long)got->events[i]->output_tokens);
			ASSERT_EQ(PQputCopyData(c, line, n), 1);
		}
		ASSERT_EQ(PQputCopyEnd(c, NULL), 1);
		r = PQgetResult(c);
		ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK);
		PQclear(r);
		PQclear(exec_ok(c, "INSERT INTO t SELECT * FROM s ON CONFLICT DO NOTHING"));
		PQclear(exec_ok(c, "DROP TABLE s"));
	}
	r = exec_ok(c, "SELECT count(*), sum(output) FROM t");
	ASSERT_STR_EQ(PQgetvalue(r, 0, 0), "3");
	ASSERT_STR_EQ(PQgetvalue(r, 0, 1), "600");
	PQclear(r);
	printf("ok - wire events round-trip through PostgreSQL %d\n", PQserverVersion(c));
	am_batch_free(got);
	free(wire);
	PQfinish(c);
	return 0;
}
