/* csv.c: RFC 4180 reader; see csv.h. */
#include "csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
csv_init(struct csv_reader *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	r->next_line = 1;
	/* Skip a UTF-8 byte-order mark: spreadsheets write one. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		r->pos = 3;
	}
}

void
csv_finish(struct csv_reader *r)
{
	free(r->scratch);
	r->scratch = NULL;
}

int
csv_next(struct csv_reader *r, char *err, size_t err_size)
{
	size_t out = 0, field_start = 0;
	int in_quotes = 0, was_quoted = 0;

	/* Skip blank lines. */
	while (r->pos < r->len && (r->buf[r->pos] == '\n' || r->buf[r->pos] == '\r')) {
		if (r->buf[r->pos] == '\n') {
			r->next_line++;
		}
		r->pos++;
	}
	if (r->pos >= r->len) {
		return 0;
	}
	r->line = r->next_line;
	/* A record's fields never need more room than its bytes plus NULs. */
	if (r->scratch_cap < r->len - r->pos + CSV_MAX_FIELDS + 1) {
		free(r->scratch);
		r->scratch_cap = r->len - r->pos + CSV_MAX_FIELDS + 1;
		r->scratch = malloc(r->scratch_cap);
		if (r->scratch == NULL) {
			r->scratch_cap = 0;
			snprintf(err, err_size, "out of memory");
			return -1;
		}
	}
	r->n_fields = 0;
	for (;;) {
		char c = r->pos < r->len ? r->buf[r->pos] : '\0';
		int at_end = r->pos >= r->len;

		if (in_quotes) {
			if (at_end) {
				snprintf(err, err_size, "unterminated quoted field");
				return -1;
			}
			r->pos++;
			if (c == '"') {
				if (r->pos < r->len && r->buf[r->pos] == '"') {
					r->scratch[out++] = '"';
					r->pos++;
				} else {
					in_quotes = 0;
				}
			} else {
				if (c == '\n') {
					r->next_line++;
				}
				r->scratch[out++] = c;
			}
			continue;
		}
		if (at_end || c == ',' || c == '\n' || c == '\r') {
			if (r->n_fields == CSV_MAX_FIELDS) {
				snprintf(err, err_size, "more than %d fields", CSV_MAX_FIELDS);
				return -1;
			}
			r->scratch[out++] = '\0';
			r->fields[r->n_fields++] = r->scratch + field_start;
			field_start = out;
			was_quoted = 0;
			if (at_end) {
				return 1;
			}
			r->pos++;
			if (c == ',') {
				continue;
			}
			if (c == '\r' && r->pos < r->len && r->buf[r->pos] == '\n') {
				r->pos++;
			}
			r->next_line++;
			return 1;
		}
		if (c == '"') {
			if (out != field_start || was_quoted) {
				snprintf(err, err_size, "quote inside an unquoted field %zu",
					 r->n_fields + 1);
				return -1;
			}
			in_quotes = 1;
			was_quoted = 1;
			r->pos++;
			continue;
		}
		if (was_quoted) {
			snprintf(err, err_size, "text after the closing quote of field %zu",
				 r->n_fields + 1);
			return -1;
		}
		r->scratch[out++] = c;
		r->pos++;
	}
}

int
csv_column(const struct csv_reader *r, const char *name)
{
	for (size_t i = 0; i < r->n_fields; i++) {
		if (strcmp(r->fields[i], name) == 0) {
			return (int)i;
		}
	}
	return -1;
}
