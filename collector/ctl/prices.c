/*
 * prices.c: `aimeterctl prices import FILE.csv`: add price book rows. Rows
 * are never updated: an identical row is already there and adds nothing; a
 * correction is a new row (usually with a later effective_from).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "ctl.h"

static const char *const price_columns[] = {
	"model_pattern",
	"provider",
	"input_per_mtok",
	"output_per_mtok",
	"cache_write_5m_per_mtok",
	"cache_write_1h_per_mtok",
	"cache_read_per_mtok",
	"long_context_threshold_tokens",
	"long_context_input_per_mtok",
	"long_context_output_per_mtok",
	"web_search_per_1k",
	"fast_multiplier",
	"source",
	"as_of",
	"effective_from",
};
#define N_PRICE_COLUMNS (sizeof(price_columns) / sizeof(price_columns[0]))

/* A plain non-negative decimal: digits, optionally a point and digits. */
static int
is_decimal(const char *s, int integer_only)
{
	size_t i = 0, digits = 0;

	while (s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	if (s[i] == '.' && !integer_only) {
		i++;
		while (s[i] >= '0' && s[i] <= '9') {
			i++;
			digits++;
		}
	}
	return digits > 0 && s[i] == '\0';
}

static int
check_row(const char *path, unsigned line, const char *v[N_PRICE_COLUMNS])
{
	if (v[0] == NULL || v[0][0] == '\0') {
		fprintf(stderr, "%s:%u: model_pattern is empty\n", path, line);
		return -1;
	}
	for (size_t i = 2; i <= 11; i++) {
		if (v[i] == NULL || v[i][0] == '\0') {
			if (i == 2 || i == 3) {
				fprintf(stderr, "%s:%u: %s is empty\n", path, line, price_columns[i]);
				return -1;
			}
			continue;
		}
		if (!is_decimal(v[i], i == 7)) {
			fprintf(stderr, "%s:%u: %s \"%s\" is not a non-negative %s\n", path, line,
				price_columns[i], v[i], i == 7 ? "integer" : "number");
			return -1;
		}
	}
	return 0;
}

static int
import_prices(PGconn *conn, const char *path, const char *buf, size_t len, long *ret_added,
	      long *ret_same)
{
	struct csv_reader r;
	int col[N_PRICE_COLUMNS], rc = -1, got;
	size_t n_header;
	char err[256];
	long added = 0, same = 0;

	csv_init(&r, buf, len);
	got = csv_next(&r, err, sizeof(err));
	if (got <= 0) {
		fprintf(stderr, "%s:%u: %s\n", path, r.line ? r.line : 1,
			got < 0 ? err : "no header row");
		goto out;
	}
	n_header = r.n_fields;
	for (size_t i = 0; i < N_PRICE_COLUMNS; i++) {
		col[i] = csv_column(&r, price_columns[i]);
	}
	if (col[0] < 0 || col[2] < 0 || col[3] < 0) {
		fprintf(stderr, "%s:%u: the header needs model_pattern, input_per_mtok and "
				"output_per_mtok\n",
			path, r.line);
		goto out;
	}
	if (ctl_exec(conn, "BEGIN") < 0) {
		goto out;
	}
	for (;;) {
		const char *v[N_PRICE_COLUMNS];
		PGresult *res;

		got = csv_next(&r, err, sizeof(err));
		if (got == 0) {
			break;
		}
		if (got < 0) {
			fprintf(stderr, "%s:%u: %s\n", path, r.line, err);
			goto rollback;
		}
		if (r.n_fields != n_header) {
			fprintf(stderr, "%s:%u: %zu fields where the header has %zu\n", path, r.line,
				r.n_fields, n_header);
			goto rollback;
		}
		for (size_t i = 0; i < N_PRICE_COLUMNS; i++) {
			v[i] = (col[i] >= 0 && (size_t)col[i] < r.n_fields) ? r.fields[col[i]] : NULL;
			/* Empty means "not given": the column's rule applies. */
			if (v[i] != NULL && v[i][0] == '\0') {
				v[i] = NULL;
			}
		}
		if (check_row(path, r.line, v) < 0) {
			goto rollback;
		}
		res = PQexecParams(
			conn,
			"INSERT INTO aimeter.prices (model_pattern, provider, input_per_mtok, "
			"output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok, "
			"cache_read_per_mtok, long_context_threshold_tokens, "
			"long_context_input_per_mtok, long_context_output_per_mtok, "
			"web_search_per_1k, fast_multiplier, source, as_of, effective_from) "
			"VALUES ($1, coalesce($2, ''), $3, $4, $5, $6, $7, $8, $9, $10, $11, "
			"coalesce($12::numeric, 1), coalesce($13, ''), $14, "
			"coalesce($15::timestamptz, '-infinity')) ON CONFLICT DO NOTHING",
			(int)N_PRICE_COLUMNS, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "%s:%u: %s", path, r.line, PQerrorMessage(conn));
			PQclear(res);
			goto rollback;
		}
		if (strcmp(PQcmdTuples(res), "1") == 0) {
			added++;
		} else {
			same++;
		}
		PQclear(res);
	}
	if (ctl_exec(conn, "COMMIT") < 0) {
		goto out;
	}
	*ret_added = added;
	*ret_same = same;
	rc = 0;
	goto out;
rollback:
	fprintf(stderr, "%s: nothing imported\n", path);
	/* Already failing; the rollback's own error adds nothing. */
	(void)ctl_exec(conn, "ROLLBACK");
out:
	csv_finish(&r);
	return rc;
}

int
cmd_prices(int argc, char **argv)
{
	static const struct option longopts[] = { CTL_COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct ctl_opts opts = { 0 };
	long added = 0, same = 0;
	char *buf = NULL;
	size_t len = 0;
	PGconn *conn;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ctl_common_option(&opts, c, optarg)) {
			continue;
		}
		if (c == 'h') {
			printf("usage: aimeterctl prices import [options] FILE.csv\n\n"
			       "Adds price book rows. Columns (header row required):\n"
			       "model_pattern (case-sensitive glob, longest match wins), provider,\n"
			       "input_per_mtok, output_per_mtok, cache_write_5m_per_mtok,\n"
			       "cache_write_1h_per_mtok, cache_read_per_mtok (empty: input rate),\n"
			       "long_context_threshold_tokens (empty: no tier),\n"
			       "long_context_input_per_mtok, long_context_output_per_mtok,\n"
			       "web_search_per_1k, source, as_of, effective_from (empty: from the\n"
			       "beginning of time), fast_multiplier (empty: 1). Rows are never\n"
			       "updated; an identical row adds nothing. A malformed row is\n"
			       "reported with its line and nothing from the file is imported.\n\n"
			       "options:\n" CTL_COMMON_HELP);
			return CTL_OK;
		}
		return CTL_USAGE;
	}
	if (optind + 2 != argc || strcmp(argv[optind], "import") != 0) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl prices import FILE.csv; see --help\n");
		return CTL_USAGE;
	}
	if (ctl_read_file(argv[optind + 1], &buf, &len) < 0) {
		return CTL_FAIL;
	}
	conn = ctl_connect(&opts);
	if (conn == NULL) {
		free(buf);
		return CTL_FAIL;
	}
	rc = import_prices(conn, argv[optind + 1], buf, len, &added, &same);
	PQfinish(conn);
	free(buf);
	if (rc < 0) {
		return CTL_FAIL;
	}
	printf("price rows: %ld added, %ld already present\n", added, same);
	return CTL_OK;
}
