/*
 * import.h: what the file-loading commands (directory, prices, seats,
 * ingest) share: the whole file in memory, one connection, CSV rows whose
 * errors read "file:line: message", and on the first error "file: nothing
 * imported" with a rollback, so a file is applied whole or not at all.
 */
#ifndef AM_CTL_IMPORT_H
#define AM_CTL_IMPORT_H

#include <stddef.h>

#include <libpq-fe.h>

#include "csv.h"
#include "ctl.h"

struct import {
	const char *path; /* borrowed; "-" is stdin */
	char *buf;	  /* the whole file, NUL-terminated; owned */
	size_t len;
	PGconn *conn;	       /* owned; NULL until import_connect */
	struct csv_reader csv; /* over buf, from import_read */
	size_t n_header;       /* fields of the header row; 0: rows of any width */
};

/*
 * import_read(im, path): read path into im and start a CSV reader over it.
 * Returns 0, or -1 after printing why. Call import_close either way.
 */
int import_read(struct import *im, const char *path);

/* import_connect(im, opts): connect im; 0, or -1 after printing why. */
int import_connect(struct import *im, const struct ctl_opts *opts);

/* import_open(im, opts, path): import_read, then import_connect. */
int import_open(struct import *im, const struct ctl_opts *opts, const char *path);

/*
 * import_header(im): read the header row into im->csv and remember its
 * width; 0, or -1 after printing "file:line: why".
 */
int import_header(struct import *im);

/*
 * import_next_row(im): the next row into im->csv, as wide as the header
 * (when import_header read one). Returns 1, 0 at the end, or -1 after
 * printing "file:line: why".
 */
int import_next_row(struct import *im);

/*
 * import_insert_row(im, sql, nparams, params): run sql with text params
 * for the current row. Returns the number of rows it changed, or -1 after
 * printing "file:line: " and the server's message.
 */
int import_insert_row(struct import *im, const char *sql, int nparams, const char *const *params);

/*
 * An append-only table loaded from CSV: the price book, exchange rates.
 * Columns are found by header name; those in `required` (a bit per column
 * index) must be in the header. An empty field is passed as NULL ("not
 * given"). `check` rejects a row with "file:line: why"; `insert_sql` takes
 * the columns as $1..$n in order and ends in ON CONFLICT DO NOTHING, so an
 * identical row adds nothing.
 */
struct import_table {
	const char *const *columns;
	size_t n_columns; /* at most IMPORT_MAX_COLUMNS */
	unsigned required;
	int (*check)(const char *path, unsigned line, const char *const *v);
	const char *insert_sql;
};
#define IMPORT_MAX_COLUMNS 32

/*
 * import_append_only(im, t, ret_added, ret_same): read the header and every
 * row into t inside one transaction. Returns 0 with the rows added and
 * those already present, or -1 after printing why and rolling back.
 */
int import_append_only(struct import *im, const struct import_table *t, long *ret_added,
		       long *ret_same);

/* import_abort(im): print "file: nothing imported" and roll back. */
void import_abort(struct import *im);

/* import_close(im): disconnect and free; accepts a zeroed or half-opened im. */
void import_close(struct import *im);

#endif
