/*
 * test-ctl-print.c: the CSV aimeterctl writes neutralises formula-like text
 * cells (OWASP CSV injection) and leaves numbers alone. Results are built
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

/* The CSV print_result writes for r, as one string (caller frees). */
static char *
csv_of(PGresult *r)
{
	char path[] = "/tmp/test-ctl-print.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	char *buf = calloc(1, 4096);
	ssize_t n;

	ASSERT(fd >= 0 && saved >= 0 && buf != NULL);
	fflush(stdout);
	ASSERT(dup2(fd, STDOUT_FILENO) >= 0);
	print_result(r, PRINT_CSV);
	fflush(stdout);
	ASSERT(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	n = pread(fd, buf, 4095, 0);
	ASSERT(n >= 0);
	close(fd);
	unlink(path);
	return buf;
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

int
main(void)
{
	RUN(text_formulas_neutralised);
	RUN(numbers_stay_numbers);
	return 0;
}
