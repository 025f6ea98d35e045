/*
 * csv.h: a strict RFC 4180 reader over a buffer in memory.
 *
 * Quoted fields may hold commas, quotes ("") and newlines; CRLF and LF both
 * end a record. Errors carry the line number, so callers can report
 * "file:line: message" and refuse the whole file.
 */
#ifndef AM_CSV_H
#define AM_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS 64

struct csv_reader {
	const char *buf; /* borrowed */
	size_t len;
	size_t pos;
	unsigned line;        /* line where the current record starts, from 1 */
	unsigned next_line;   /* line after it */
	char *scratch;        /* owned: the fields of the current record */
	size_t scratch_cap;
	char *fields[CSV_MAX_FIELDS];
	size_t n_fields;
};

/* csv_init(r, buf, len): start reading buf (borrowed; must outlive r). */
void csv_init(struct csv_reader *r, const char *buf, size_t len);

/*
 * csv_next(r, ret_err, err_size): read the next record into r->fields and
 * r->n_fields (valid until the next call). Returns 1 for a record, 0 at the
 * end, -1 on malformed input with a message (without the line) in ret_err.
 * Blank lines are skipped.
 */
int csv_next(struct csv_reader *r, char *ret_err, size_t err_size);

/* csv_finish(r): free the reader's memory. */
void csv_finish(struct csv_reader *r);

/* csv_column(r, name): index of a header column in the current record, or -1. */
int csv_column(const struct csv_reader *r, const char *name);

#endif
