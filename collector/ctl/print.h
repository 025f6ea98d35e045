/*
 * print.h: query results on stdout in the --format every report command
 * takes: an aligned table, CSV with a header row, or a JSON array of
 * objects. One printer, so a column prints the same in every command.
 */
#ifndef AM_CTL_PRINT_H
#define AM_CTL_PRINT_H

#include <libpq-fe.h>

#include "ctl.h"

enum print_format { PRINT_TABLE, PRINT_CSV, PRINT_JSON, PRINT_FORMAT_MAX };

/* print_parse_format(s, ret): table, csv or json; -1 after printing why. */
int print_parse_format(const char *s, enum print_format *ret);

/*
 * print_result(r, f): every row of r as a table (numbers right-aligned), CSV
 * with a header, or JSON objects a row a line (numbers, json and bool
 * columns unquoted, NULL as null, NaN and Infinity as strings), written by
 * common/json-writer so strings escape as everywhere else.
 */
void print_result(PGresult *r, enum print_format f);

/*
 * print_csv_header(r), print_csv_row(r, i): the CSV of print_result, a row
 * at a time (for results read in single-row mode). Text cells that a
 * spreadsheet would take for a formula (a leading = + - @, tab or CR) get a
 * leading ', as OWASP advises; numbers, negative ones included, do not.
 */
void print_csv_header(PGresult *r);
void print_csv_row(PGresult *r, int i);

/*
 * print_query(opts, sql, nparams, params, f): connect, run one query, print
 * its rows; returns CTL_OK or CTL_FAIL (after printing why).
 */
int print_query(const struct ctl_opts *opts, const char *sql, int nparams,
		const char *const *params, enum print_format f);

/*
 * print_value(opts, sql, nparams, params, label): connect, run a query of
 * one value and print label and the value on one line; CTL_OK or CTL_FAIL.
 */
int print_value(const struct ctl_opts *opts, const char *sql, int nparams,
		const char *const *params, const char *label);

#endif
