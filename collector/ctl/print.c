/* print.c: query results as a table, CSV or JSON; see print.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-writer.h"
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

/*
 * A cell a spreadsheet would run as a formula (OWASP "CSV Injection"): it
 * starts with = + - @, a tab or a CR, or their full-width forms (U+FF1D,
 * U+FF0B, U+FF0D, U+FF20), and is not simply a number as JSON writes one.
 */
static bool
csv_formula_like(const char *s)
{
	static const char *const wide[] = { "\xef\xbc\x9d", "\xef\xbc\x8b", "\xef\xbc\x8d",
					    "\xef\xbc\xa0" };

	if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL) {
		return !jw_number_valid(s); /* -3.5 is a number, not a formula */
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

/* One row's JSON at most: a row of a report is a few hundred bytes. */
#define PRINT_JSON_ROW_MAX ((size_t)64 << 20)

/* Cell (i, j) as a JSON value: numbers, json and bools unquoted, NULL as null. */
static void
json_cell(struct jw *w, PGresult *r, int i, int j)
{
	const char *v = PQgetvalue(r, i, j);
	Oid t = PQftype(r, j);

	if (PQgetisnull(r, i, j)) {
		jw_null(w);
	} else if (is_number_type(t) && jw_number_valid(v)) {
		jw_number_text(w, v);
	} else if (is_json_type(t)) {
		jw_raw(w, v, (size_t)PQgetlength(r, i, j));
	} else if (t == 16) { /* bool */
		jw_bool(w, v[0] == 't');
	} else {
		/* text, and numbers JSON cannot hold (NaN, Infinity) as their text */
		jw_string(w, v);
	}
}

/* Write out and drop the text so far; false (after printing why) when the writer failed. */
static bool
json_flush(struct jw *w)
{
	int e = jw_error(w);

	if (e < 0) {
		fprintf(stderr, "aimeterctl: could not format the result as JSON: %s\n", strerror(-e));
		return false;
	}
	fwrite(jw_data(w), 1, jw_len(w), stdout);
	jw_drain(w);
	return true;
}

static void
print_json(PGresult *r)
{
	int rows = PQntuples(r), cols = PQnfields(r);
	bool ok = true;
	struct jw w;

	jw_init(&w, NULL, 0, PRINT_JSON_ROW_MAX);
	jw_set_lines(&w, 1); /* a row a line */
	jw_array_begin(&w);
	for (int i = 0; i < rows && ok; i++) {
		jw_object_begin(&w);
		for (int j = 0; j < cols; j++) {
			jw_key(&w, PQfname(r, j));
			json_cell(&w, r, i, j);
		}
		jw_end(&w);
		ok = json_flush(&w); /* streamed: memory stays one row */
	}
	if (ok) {
		jw_end(&w);
		if (json_flush(&w)) {
			putchar('\n');
		}
	}
	jw_finish(&w);
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
