/* print.c: query results as a table, CSV or JSON; see print.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"

int
print_parse_format(const char *s, enum print_format *ret)
{
	static const char *const names[PRINT_FORMAT_MAX] = { "table", "csv", "json" };

	for (int i = 0; i < PRINT_FORMAT_MAX; i++) {
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum print_format)i;
			return 0;
		}
	}
	fprintf(stderr, "aimeterctl: --format is table, csv or json\n");
	return -1;
}

static bool
is_number_type(Oid t)
{
	/* int2, int4, int8, numeric, float4, float8 */
	return t == 21 || t == 23 || t == 20 || t == 1700 || t == 700 || t == 701;
}

static bool
is_json_type(Oid t)
{
	return t == 114 || t == 3802; /* json, jsonb */
}

static void
csv_field(const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"') {
			putchar('"');
		}
		putchar(*s);
	}
	putchar('"');
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

static void
print_json(PGresult *r)
{
	int rows = PQntuples(r), cols = PQnfields(r);

	printf("[");
	for (int i = 0; i < rows; i++) {
		printf("%s\n  {", i > 0 ? "," : "");
		for (int j = 0; j < cols; j++) {
			printf("%s", j > 0 ? ", " : "");
			json_string(PQfname(r, j));
			printf(": ");
			if (PQgetisnull(r, i, j)) {
				printf("null");
			} else if (is_number_type(PQftype(r, j)) || is_json_type(PQftype(r, j))) {
				fputs(PQgetvalue(r, i, j), stdout);
			} else if (PQftype(r, j) == 16) { /* bool */
				fputs(PQgetvalue(r, i, j)[0] == 't' ? "true" : "false", stdout);
			} else {
				json_string(PQgetvalue(r, i, j));
			}
		}
		printf("}");
	}
	printf("%s]\n", rows > 0 ? "\n" : "");
}

static void
print_csv(PGresult *r)
{
	int rows = PQntuples(r), cols = PQnfields(r);

	for (int j = 0; j < cols; j++) {
		printf("%s", j > 0 ? "," : "");
		csv_field(PQfname(r, j));
	}
	putchar('\n');
	for (int i = 0; i < rows; i++) {
		for (int j = 0; j < cols; j++) {
			printf("%s", j > 0 ? "," : "");
			csv_field(PQgetvalue(r, i, j));
		}
		putchar('\n');
	}
}

static void
print_table(PGresult *r)
{
	int rows = PQntuples(r), cols = PQnfields(r);
	int *width = calloc((size_t)(cols > 0 ? cols : 1), sizeof(int));

	if (width == NULL) {
		fprintf(stderr, "aimeterctl: out of memory\n");
		return;
	}
	for (int j = 0; j < cols; j++) {
		width[j] = (int)strlen(PQfname(r, j));
		for (int i = 0; i < rows; i++) {
			int w = PQgetlength(r, i, j);
			width[j] = w > width[j] ? w : width[j];
		}
	}
	for (int j = 0; j < cols; j++) {
		printf(is_number_type(PQftype(r, j)) ? "%s%*s" : "%s%-*s", j > 0 ? "  " : "",
		       width[j], PQfname(r, j));
	}
	putchar('\n');
	for (int i = 0; i < rows; i++) {
		for (int j = 0; j < cols; j++) {
			printf(is_number_type(PQftype(r, j)) ? "%s%*s" : "%s%-*s", j > 0 ? "  " : "",
			       width[j], PQgetvalue(r, i, j));
		}
		putchar('\n');
	}
	free(width);
}

void
print_result(PGresult *r, enum print_format f)
{
	switch (f) {
	case PRINT_JSON:
		print_json(r);
		break;
	case PRINT_CSV:
		print_csv(r);
		break;
	default:
		print_table(r);
		break;
	}
}

/* Connect, run sql, print with f or, when label is not NULL, the first value after it. */
static int
query_and_print(const struct ctl_opts *opts, const char *sql, int nparams,
		const char *const *params, enum print_format f, const char *label)
{
	PGconn *conn = ctl_connect(opts);
	PGresult *r;

	if (conn == NULL) {
		return CTL_FAIL;
	}
	r = ctl_query(conn, sql, nparams, params);
	if (r == NULL) {
		PQfinish(conn);
		return CTL_FAIL;
	}
	if (label != NULL) {
		printf("%s%s\n", label, PQgetvalue(r, 0, 0));
	} else {
		print_result(r, f);
	}
	PQclear(r);
	PQfinish(conn);
	return CTL_OK;
}

int
print_query(const struct ctl_opts *opts, const char *sql, int nparams, const char *const *params,
	    enum print_format f)
{
	return query_and_print(opts, sql, nparams, params, f, NULL);
}

int
print_value(const struct ctl_opts *opts, const char *sql, int nparams, const char *const *params,
	    const char *label)
{
	return query_and_print(opts, sql, nparams, params, PRINT_TABLE, label);
}
