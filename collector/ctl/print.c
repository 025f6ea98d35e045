/* print.c: query results as a table, CSV or JSON; see print.h. */
#include <ctype.h>
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

/* digits(s): past a run of at least one decimal digit, or NULL. */
static const char *
digits(const char *s)
{
	const char *p = s;

	while (isdigit((unsigned char)*p)) {
		p++;
	}
	return p > s ? p : NULL;
}

/* A decimal number as PostgreSQL prints one: -3.5, 12, 1e-05 (no hex, inf or nan). */
static bool
is_plain_number(const char *s)
{
	s += s[0] == '-';
	s = digits(s);
	if (s != NULL && s[0] == '.') {
		s = digits(s + 1);
	}
	if (s != NULL && (s[0] == 'e' || s[0] == 'E')) {
		s = digits(s + 1 + (s[1] == '+' || s[1] == '-'));
	}
	return s != NULL && s[0] == '\0';
}

/*
 * A cell a spreadsheet would run as a formula (OWASP "CSV Injection"): it
 * starts with = + - @, a tab or a CR, or their full-width forms (U+FF1D,
 * U+FF0B, U+FF0D, U+FF20), and is not simply a number.
 */
static bool
csv_formula_like(const char *s)
{
	static const char *const wide[] = { "\xef\xbc\x9d", "\xef\xbc\x8b", "\xef\xbc\x8d",
					    "\xef\xbc\xa0" };

	if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL) {
		return !is_plain_number(s);
	}
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		if (strncmp(s, wide[i], 3) == 0) {
			return true;
		}
	}
	return false;
}

/* csv_field(s, text): one cell; a text cell that looks like a formula gets a leading '. */
static void
csv_field(const char *s, bool text)
{
	bool neutralise = text && csv_formula_like(s);

	if (!neutralise && strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	if (neutralise) {
		putchar('\'');
	}
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

void
print_csv_header(PGresult *r)
{
	for (int j = 0; j < PQnfields(r); j++) {
		printf("%s", j > 0 ? "," : "");
		csv_field(PQfname(r, j), true);
	}
	putchar('\n');
}

void
print_csv_row(PGresult *r, int i)
{
	for (int j = 0; j < PQnfields(r); j++) {
		printf("%s", j > 0 ? "," : "");
		/* Numbers stay numbers, -3.5 included; every other type is text. */
		csv_field(PQgetvalue(r, i, j), !is_number_type(PQftype(r, j)));
	}
	putchar('\n');
}

static void
print_csv(PGresult *r)
{
	print_csv_header(r);
	for (int i = 0; i < PQntuples(r); i++) {
		print_csv_row(r, i);
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
