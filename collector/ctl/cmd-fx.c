/*
 * cmd-fx.c: `aimeterctl fx import FILE.csv | fx list`: the exchange rates
 * budgets convert ledger lines with (aimeter.fx_rates, aimeter.fx_rate).
 * Rows are never updated: an identical row adds nothing; a correction is a
 * new row, usually with a later effective_from.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "options.h"
#include "print.h"
#include "rep.h"

enum { FX_FROM, FX_TO, FX_RATE, FX_EFFECTIVE_FROM, FX_SOURCE, N_FX_COLUMNS };

static const char *const fx_columns[N_FX_COLUMNS] = {
	"from_currency", "to_currency", "rate", "effective_from", "source",
};

/* An ISO 4217 shaped code: three capital letters. */
static bool
is_currency(const char *s)
{
	return s != NULL && strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
}

/* A finite number above zero, written with a leading digit. */
static bool
is_positive_rate(const char *s)
{
	char *end = NULL;
	double d;

	if (s == NULL || s[0] < '0' || s[0] > '9') {
		return false;
	}
	d = strtod(s, &end);
	return *end == '\0' && isfinite(d) && d > 0;
}

static int
check_fx_row(const char *path, unsigned line, const char *const *v)
{
	for (int i = FX_FROM; i <= FX_TO; i++) {
		if (!is_currency(v[i])) {
			fprintf(stderr, "%s:%u: %s \"%s\" is not a currency code like EUR\n", path,
				line, fx_columns[i], v[i] ? v[i] : "");
			return -1;
		}
	}
	if (strcmp(v[FX_FROM], v[FX_TO]) == 0) {
		fprintf(stderr, "%s:%u: from_currency and to_currency are both %s\n", path, line,
			v[FX_FROM]);
		return -1;
	}
	if (!is_positive_rate(v[FX_RATE])) {
		fprintf(stderr, "%s:%u: rate \"%s\" is not a number above 0\n", path, line,
			v[FX_RATE] ? v[FX_RATE] : "");
		return -1;
	}
	if (v[FX_EFFECTIVE_FROM] == NULL || !rep_is_date(v[FX_EFFECTIVE_FROM])) {
		fprintf(stderr, "%s:%u: effective_from \"%s\" is not a date YYYY-MM-DD\n", path,
			line, v[FX_EFFECTIVE_FROM] ? v[FX_EFFECTIVE_FROM] : "");
		return -1;
	}
	return 0;
}

static const struct import_table fx_table = {
	fx_columns,
	N_FX_COLUMNS,
	(1u << FX_FROM) | (1u << FX_TO) | (1u << FX_RATE) | (1u << FX_EFFECTIVE_FROM),
	check_fx_row,
	"INSERT INTO aimeter.fx_rates (from_currency, to_currency, rate, effective_from, source)"
	" VALUES ($1, $2, $3::numeric, $4::date, coalesce($5, '')) ON CONFLICT DO NOTHING",
};

static const char help[] =
	"usage: aimeterctl fx import [options] FILE.csv\n"
	"       aimeterctl fx list [--format FMT] [options]\n\n"
	"import: adds exchange rates. Columns (header row required):\n"
	"from_currency, to_currency, rate (to_currency per one from_currency),\n"
	"effective_from (YYYY-MM-DD), source (optional). A budget converts a\n"
	"ledger line at the rate of the day or the latest before it; a pair given\n"
	"only the other way round is inverted. Rows are never updated; an\n"
	"identical row adds nothing. A malformed row is reported with its line\n"
	"and nothing from the file is imported.\n"
	"list: every rate, newest first per pair.\n\n"
	"options:\n"
	"  --format FMT            table (default), csv or json (list)\n" CTL_COMMON_HELP;

int
cmd_fx(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	enum print_format f = PRINT_TABLE;
	const struct options_spec spec = { help, NULL, &f, 1, false };
	long added = 0, same = 0;
	struct import im;
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 1 == argc && strcmp(argv[optind], "list") == 0) {
		return print_query(&opts,
				   "SELECT from_currency, to_currency, rate, effective_from, source,"
				   " recorded_at FROM aimeter.fx_rates"
				   " ORDER BY from_currency, to_currency, effective_from DESC,"
				   " recorded_at DESC",
				   0, NULL, f);
	}
	if (optind + 2 != argc || strcmp(argv[optind], "import") != 0) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl fx import FILE.csv | fx list;"
				" see --help\n");
		return CTL_USAGE;
	}
	rc = import_open(&im, &opts, argv[optind + 1]) < 0 || import_append_only(&im, &fx_table, &added, &same) < 0 ?
		     CTL_FAIL :
		     CTL_OK;
	import_close(&im);
	if (rc == CTL_OK) {
		printf("fx rates: %ld added, %ld already present\n", added, same);
	}
	return rc;
}
