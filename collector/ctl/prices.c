/*
 * prices.c: `aimeterctl prices import FILE.csv`: add price book rows. Rows
 * are never updated: an identical row is already there and adds nothing; a
 * correction is a new row (usually with a later effective_from).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "import.h"
#include "options.h"

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
	"batch_multiplier",
	"flex_multiplier",
	"priority_multiplier",
};
/* Columns 2..11 and 15..17 are numbers; 7 is an integer. */
#define IS_NUMBER_COLUMN(i) (((i) >= 2 && (i) <= 11) || (i) >= 15)
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
check_row(const char *path, unsigned line, const char *const *v)
{
	if (v[0] == NULL || v[0][0] == '\0') {
		fprintf(stderr, "%s:%u: model_pattern is empty\n", path, line);
		return -1;
	}
	for (size_t i = 2; i < N_PRICE_COLUMNS; i++) {
		if (!IS_NUMBER_COLUMN(i)) {
			continue;
		}
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

static const struct import_table price_table = {
	price_columns,
	N_PRICE_COLUMNS,
	(1u << 0) | (1u << 2) | (1u << 3), /* model_pattern, input and output rates */
	check_row,
	"INSERT INTO aimeter.prices (model_pattern, provider, input_per_mtok, "
	"output_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok, "
	"cache_read_per_mtok, long_context_threshold_tokens, "
	"long_context_input_per_mtok, long_context_output_per_mtok, "
	"web_search_per_1k, fast_multiplier, source, as_of, effective_from, "
	"batch_multiplier, flex_multiplier, priority_multiplier) "
	"VALUES ($1, coalesce($2, ''), $3, $4, $5, $6, $7, $8, $9, $10, $11, "
	"coalesce($12::numeric, 1), coalesce($13, ''), $14, "
	"coalesce($15::timestamptz, '-infinity'), coalesce($16::numeric, 0.5), "
	"coalesce($17::numeric, 0.5), coalesce($18::numeric, 1)) ON CONFLICT DO NOTHING",
};

static const char help[] =
	"usage: aimeterctl prices import [options] FILE.csv\n\n"
	"Adds price book rows. Columns (header row required):\n"
	"model_pattern (case-sensitive glob, longest match wins), provider,\n"
	"input_per_mtok, output_per_mtok, cache_write_5m_per_mtok,\n"
	"cache_write_1h_per_mtok, cache_read_per_mtok (empty: input rate),\n"
	"long_context_threshold_tokens (empty: no tier),\n"
	"long_context_input_per_mtok, long_context_output_per_mtok,\n"
	"web_search_per_1k, source, as_of, effective_from (empty: from the\n"
	"beginning of time), fast_multiplier (empty: 1), batch_multiplier and\n"
	"flex_multiplier (empty: 0.5), priority_multiplier (empty: 1): what a\n"
	"request of that service tier costs relative to standard. Rows are never\n"
	"updated; an identical row adds nothing. A malformed row is\n"
	"reported with its line and nothing from the file is imported.\n\n"
	"options:\n" CTL_COMMON_HELP;

int
cmd_prices(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const struct options_spec spec = { help, NULL, NULL, 1, false };
	long added = 0, same = 0;
	struct import im;
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 2 != argc || strcmp(argv[optind], "import") != 0) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl prices import FILE.csv; see --help\n");
		return CTL_USAGE;
	}
	/* effective_from dates are UTC midnights, as the agent reads them. */
	rc = import_open(&im, &opts, argv[optind + 1]) < 0 ||
			     ctl_exec(im.conn, "SET TimeZone = 'UTC'") < 0 ||
			     import_append_only(&im, &price_table, &added, &same) < 0 ?
		     CTL_FAIL :
		     CTL_OK;
	import_close(&im);
	if (rc == CTL_OK) {
		printf("price rows: %ld added, %ld already present\n", added, same);
	}
	return rc;
}
