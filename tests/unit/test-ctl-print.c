/*
 * test-ctl-print.c: the CSV aimeterctl writes neutralises formula-like text
 * cells (OWASP CSV injection) and leaves numbers alone; its JSON parses. Results are built
 * with libpq's PQmakeEmptyPGresult, so no server is needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../collector/ctl/print.h"
#include "test.h"

/* print.c's query helpers are not under test: no connection here. */
PGconn *
ctl_connect(const struct ctl_opts *opts)
{
	(void)opts;
	return NULL;
}

PGresult *
ctl_query(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	(void)conn, (void)sql, (void)nparams, (void)params;
	return NULL;
}

#define TEXT_OID 25
#define NUMERIC_OID 1700

/* A one-column result of type oid holding the values. */
static PGresult *
make_result(Oid type, const char *const *values, int n)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc att = { .name = "c", .typid = type, .typlen = -1, .atttypmod = -1 };

	ASSERT_NOT_NULL(r);
	ASSERT(PQsetResultAttrs(r, 1, &att));
	for (int i = 0; i < n; i++) {
		ASSERT(PQsetvalue(r, i, 0, (char *)values[i], (int)strlen(values[i])));
	}
	return r;
}

/* What print_result writes for r in format f, as one string (caller frees). */
static char *
output_of(PGresult *r, enum print_format f)
{
	char path[] = "/tmp/test-ctl-print.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	char *buf = calloc(1, 4096);
	ssize_t n;

	ASSERT(fd >= 0 && saved >= 0 && buf != NULL);
	fflush(stdout);
	ASSERT(dup2(fd, STDOUT_FILENO) >= 0);
	print_result(r, f);
	fflush(stdout);
	ASSERT(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	n = pread(fd, buf, 4095, 0);
	ASSERT(n >= 0);
	close(fd);
	unlink(path);
	return buf;
}

static char *
csv_of(PGresult *r)
{
	return output_of(r, PRINT_CSV);
}

TEST(text_formulas_neutralised)
{
	static const char *const v[] = {
		"=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(1)",
		"\tx", "\rx", "\xef\xbc\x9d" "1+1", "plain", "-3.5", "1e-05", "-0x1A", "a,=b",
	};
	PGresult *r = make_result(TEXT_OID, v, (int)(sizeof(v) / sizeof(v[0])));
	char *out = csv_of(r);

	ASSERT_STR_EQ(out, "c\n"
			   "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n"
			   "\"'+1+1\"\n"
			   "\"'-2+3+cmd|' /C calc'!A0\"\n"
			   "\"'@SUM(1)\"\n"
			   "\"'\tx\"\n"
			   "\"'\rx\"\n"
			   "\"'\xef\xbc\x9d" "1+1\"\n"
			   "plain\n"
			   "-3.5\n"
			   "1e-05\n"
			   "\"'-0x1A\"\n"
			   "\"a,=b\"\n");
	free(out);
	PQclear(r);
}

TEST(numbers_stay_numbers)
{
	static const char *const v[] = { "-3.5", "-12", "0.000001", "-1e-05" };
	PGresult *r = make_result(NUMERIC_OID, v, 4);
	char *out = csv_of(r);

	ASSERT_STR_EQ(out, "c\n-3.5\n-12\n0.000001\n-1e-05\n");
	free(out);
	PQclear(r);
}

/*
 * JSON goes through common/json-writer: strings escaped as everywhere else
 * (control characters, invalid UTF-8 replaced), numbers JSON cannot hold
 * written as strings, json columns as they are, NULL as null.
 */
TEST(json_types_and_escapes)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc att[] = {
		{ .name = "t\"x", .typid = TEXT_OID, .typlen = -1, .atttypmod = -1 },
		{ .name = "n", .typid = NUMERIC_OID, .typlen = -1, .atttypmod = -1 },
		{ .name = "b", .typid = 16, .typlen = 1, .atttypmod = -1 },
		{ .name = "j", .typid = 3802, .typlen = -1, .atttypmod = -1 },
	};
	static const char *const row0[] = { "a\nb\x01\"\\\xff", "-3.5", "t", "{\"k\": [1]}" };
	static const char *const row1[] = { "caf\xc3\xa9", "NaN", "f", "null" };
	char *out;

	ASSERT_NOT_NULL(r);
	ASSERT(PQsetResultAttrs(r, 4, att));
	for (int j = 0; j < 4; j++) {
		ASSERT(PQsetvalue(r, 0, j, (char *)row0[j], (int)strlen(row0[j])));
		ASSERT(PQsetvalue(r, 1, j, (char *)row1[j], (int)strlen(row1[j])));
	}
	ASSERT(PQsetvalue(r, 2, 0, NULL, -1)); /* a NULL row */
	for (int j = 1; j < 4; j++) {
		ASSERT(PQsetvalue(r, 2, j, NULL, -1));
	}
	out = output_of(r, PRINT_JSON);
	ASSERT_STR_EQ(out, "[\n"
			   "  {\"t\\\"x\":\"a\\nb\\u0001\\\"\\\\\xef\xbf\xbd\",\"n\":-3.5,\"b\":true,"
			   "\"j\":{\"k\": [1]}},\n"
			   "  {\"t\\\"x\":\"caf\xc3\xa9\",\"n\":\"NaN\",\"b\":false,\"j\":null},\n"
			   "  {\"t\\\"x\":null,\"n\":null,\"b\":null,\"j\":null}\n"
			   "]\n");
	free(out);
	PQclear(r);

	r = make_result(TEXT_OID, NULL, 0);
	out = output_of(r, PRINT_JSON);
	ASSERT_STR_EQ(out, "[]\n");
	free(out);
	PQclear(r);
}

int
main(void)
{
	RUN(text_formulas_neutralised);
	RUN(numbers_stay_numbers);
	RUN(json_types_and_escapes);
	return 0;
}
