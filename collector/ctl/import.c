/* import.c: file, connection and row errors of the import commands; see import.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

int
import_read(struct import *im, const char *path)
{
	memset(im, 0, sizeof(*im));
	im->path = path;
	if (ctl_read_file(path, &im->buf, &im->len) < 0) {
		return -1;
	}
	csv_init(&im->csv, im->buf, im->len);
	return 0;
}

int
import_connect(struct import *im, const struct ctl_opts *opts)
{
	im->conn = ctl_connect(opts);
	return im->conn != NULL ? 0 : -1;
}

int
import_open(struct import *im, const struct ctl_opts *opts, const char *path)
{
	if (import_read(im, path) < 0) {
		return -1;
	}
	return import_connect(im, opts);
}

int
import_header(struct import *im)
{
	char err[256];
	int got = csv_next(&im->csv, err, sizeof(err));

	if (got <= 0) {
		/* An empty file has no line yet: point at its first. */
		fprintf(stderr, "%s:%u: %s\n", im->path, im->csv.line ? im->csv.line : 1,
			got < 0 ? err : "no header row");
		return -1;
	}
	im->n_header = im->csv.n_fields;
	return 0;
}

int
import_next_row(struct import *im)
{
	char err[256];
	int got = csv_next(&im->csv, err, sizeof(err));

	if (got < 0) {
		fprintf(stderr, "%s:%u: %s\n", im->path, im->csv.line, err);
		return -1;
	}
	if (got > 0 && im->n_header != 0 && im->csv.n_fields != im->n_header) {
		fprintf(stderr, "%s:%u: %zu fields where the header has %zu\n", im->path,
			im->csv.line, im->csv.n_fields, im->n_header);
		return -1;
	}
	return got;
}

int
import_insert_row(struct import *im, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = PQexecParams(im->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	int n;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "%s:%u: %s", im->path, im->csv.line, PQerrorMessage(im->conn));
		PQclear(r);
		return -1;
	}
	n = (int)strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return n;
}

/* "the header needs a, b and c": the required columns, in table order. */
static void
print_header_needs(const struct import *im, const struct import_table *t)
{
	size_t n = 0, total = 0;

	for (size_t i = 0; i < t->n_columns; i++) {
		total += (t->required >> i) & 1u;
	}
	fprintf(stderr, "%s:%u: the header needs", im->path, im->csv.line);
	for (size_t i = 0; i < t->n_columns; i++) {
		if (((t->required >> i) & 1u) == 0) {
			continue;
		}
		n++;
		fprintf(stderr, "%s%s", n == 1 ? " " : n == total ? " and " : ", ", t->columns[i]);
	}
	fputc('\n', stderr);
}

int
import_append_only(struct import *im, const struct import_table *t, long *ret_added,
		   long *ret_same)
{
	struct csv_reader *r = &im->csv;
	int col[IMPORT_MAX_COLUMNS], got;
	long added = 0, same = 0;

	if (t->n_columns > IMPORT_MAX_COLUMNS || import_header(im) < 0) {
		return -1;
	}
	for (size_t i = 0; i < t->n_columns; i++) {
		col[i] = csv_column(r, t->columns[i]);
		if (col[i] < 0 && ((t->required >> i) & 1u)) {
			print_header_needs(im, t);
			return -1;
		}
	}
	if (ctl_exec(im->conn, "BEGIN") < 0) {
		return -1;
	}
	while ((got = import_next_row(im)) != 0) {
		const char *v[IMPORT_MAX_COLUMNS];

		if (got < 0) {
			goto rollback;
		}
		for (size_t i = 0; i < t->n_columns; i++) {
			v[i] = (col[i] >= 0 && (size_t)col[i] < r->n_fields) ? r->fields[col[i]] : NULL;
			if (v[i] != NULL && v[i][0] == '\0') {
				v[i] = NULL;
			}
		}
		if (t->check(im->path, r->line, v) < 0) {
			goto rollback;
		}
		got = import_insert_row(im, t->insert_sql, (int)t->n_columns, v);
		if (got < 0) {
			goto rollback;
		}
		if (got == 1) {
			added++;
		} else {
			same++;
		}
	}
	if (ctl_exec(im->conn, "COMMIT") < 0) {
		return -1;
	}
	*ret_added = added;
	*ret_same = same;
	return 0;
rollback:
	import_abort(im);
	return -1;
}

void
import_abort(struct import *im)
{
	fprintf(stderr, "%s: nothing imported\n", im->path);
	/* Already failing; the rollback's own error adds nothing. */
	(void)ctl_exec(im->conn, "ROLLBACK");
}

void
import_close(struct import *im)
{
	if (im->conn != NULL) {
		PQfinish(im->conn);
		im->conn = NULL;
	}
	csv_finish(&im->csv);
	free(im->buf);
	im->buf = NULL;
}
