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

int
cmd_retention(int argc, char **argv)
{
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ "raw-months", required_argument, NULL, 'r' },
		{ "person-months", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts opts = { 0 };
	const char *params[2] = { NULL, NULL };
	PGconn *conn;
	PGresult *r;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ctl_common_option(&opts, c, optarg)) {
			continue;
		}
		switch (c) {
		case 'r':
			params[0] = optarg;
			break;
		case 'p':
			params[1] = optarg;
			break;
		case 'h':
			printf("usage: aimeterctl retention apply [--raw-months N] [--person-months M]\n\n"
			       "Drops raw event partitions of months that ended more than N months\n"
			       "before this one, folds per-person daily rollups older than M months\n"
			       "into team rollups (adoption keeps team counts only), and refuses\n"
			       "events older than N months from now on. N and M default to the\n"
			       "stored settings (13 and 12) and are stored. Audited.\n\n"
			       "options:\n"
			       "  --raw-months N          keep N months of raw events\n"
			       "  --person-months M       keep M months of per-person rollups\n"
			       CTL_COMMON_HELP);
			return CTL_OK;
		default:
			return CTL_USAGE;
		}
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
	conn = ctl_connect(&opts);
	if (conn == NULL) {
		return CTL_FAIL;
	}
	r = ctl_query(conn, "SELECT jsonb_pretty(aimeter.retention_apply($1::int, $2::int))", 2,
		      params);
	if (r == NULL) {
		PQfinish(conn);
		return CTL_FAIL;
	}
	printf("%s\n", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(conn);
	return CTL_OK;
}
