/*
 * cmd-retention.c: `aimeterctl retention apply [--raw-months N]
 * [--person-months M]`: drop raw event partitions wholly older than N
 * months, fold per-person rollups older than M months into team rollups,
 * refuse events older than N months from now on. Defaults come from
 * aimeter.settings and are stored there. Audited.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static bool
is_count(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 4) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return true;
}

static const char help[] =
	"usage: aimeterctl retention apply [--raw-months N] [--person-months M]\n\n"
	"Drops raw event partitions of months that ended more than N months\n"
	"before this one, folds per-person daily rollups older than M months\n"
	"into team rollups (adoption keeps team counts only), and refuses\n"
	"events older than N months from now on. N and M default to the\n"
	"stored settings (13 and 12) and are stored. Audited.\n\n"
	"options:\n"
	"  --raw-months N          keep N months of raw events\n"
	"  --person-months M       keep M months of per-person rollups\n" CTL_COMMON_HELP;

int
cmd_retention(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *params[2] = { NULL, NULL };
	const struct options_entry entries[] = {
		{ "raw-months", 0, &params[0], NULL },
		{ "person-months", 0, &params[1], NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, NULL, 1, false };
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 1 != argc || strcmp(argv[optind], "apply") != 0) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl retention apply\n");
		return CTL_USAGE;
	}
	if ((params[0] != NULL && !is_count(params[0])) ||
	    (params[1] != NULL && !is_count(params[1]))) {
		fprintf(stderr, "aimeterctl: --raw-months and --person-months are whole numbers\n");
		return CTL_USAGE;
	}
	return print_value(&opts, "SELECT jsonb_pretty(aimeter.retention_apply($1::int, $2::int))",
			   2, params, "");
}
