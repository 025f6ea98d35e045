/*
 * cmd-budget.c: `aimeterctl budget set|alerts`.
 *   budget set --team T|--cost-center C --month YYYY-MM --amount N
 *              [--currency USD] [--version NAME] [--thresholds 50,80,100]
 *     adds a budget version (the latest version of a scope and month counts)
 *   budget alerts
 *     records and prints thresholds crossed since the last run (each budget
 *     and threshold alerts once)
 * Budget versus actual: `aimeterctl report budget`.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static const char help[] =
	"usage: aimeterctl budget set --team T|--cost-center C --month YYYY-MM --amount N\n"
	"                            [--currency CCY] [--version NAME] [--thresholds LIST]\n"
	"       aimeterctl budget alerts [--format FMT]\n\n"
	"set: adds a budget for a team or cost centre and month; a new --version\n"
	"(e.g. reforecast-1) supersedes the earlier ones. Thresholds are percentages\n"
	"(default 50,80,100). Actual = effective cost booked in the month: metered\n"
	"usage, seat amortisation and corrections, converted into the budget's\n"
	"currency (`aimeterctl fx import`). Forecast = usage run-rate + the month's\n"
	"seat cost + corrections as booked.\n"
	"alerts: records thresholds newly crossed and prints them, once each.\n"
	"`aimeterctl report budget` shows budget versus actual.\n\n"
	"options:\n"
	"  --format FMT            table (default), csv or json (alerts)\n" CTL_COMMON_HELP;

int
cmd_budget(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *team = NULL, *cc = NULL, *month = NULL, *amount = NULL, *ccy = "USD",
		   *version = "original", *thresholds = "50,80,100";
	enum print_format f = PRINT_TABLE;
	const struct options_entry entries[] = {
		{ "team", 0, &team, NULL },
		{ "cost-center", 0, &cc, NULL },
		{ "month", 0, &month, NULL },
		{ "amount", 0, &amount, NULL },
		{ "currency", 0, &ccy, NULL },
		{ "version", 0, &version, NULL },
		{ "thresholds", 0, &thresholds, NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, &f, 1, false };
	char first[11];
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "aimeterctl: budget needs set or alerts; see --help\n");
		return CTL_USAGE;
	}
	if (strcmp(argv[optind], "alerts") == 0) {
		return print_query(&opts, "SELECT * FROM aimeter.budget_alerts_fire()", 0, NULL, f);
	}
	if (strcmp(argv[optind], "set") != 0) {
		fprintf(stderr, "aimeterctl: unknown budget command \"%s\"\n", argv[optind]);
		return CTL_USAGE;
	}
	if ((team == NULL) == (cc == NULL) || amount == NULL ||
	    rep_parse_month(month, first) < 0) {
		fprintf(stderr, "aimeterctl: budget set needs --team or --cost-center, "
				"--month YYYY-MM and --amount\n");
		return CTL_USAGE;
	}
	{
		const char *params[7] = { team, cc, first, amount, ccy, version, thresholds };

		return print_query(&opts,
			           "INSERT INTO aimeter.budgets (team_id, cost_center_id, month, amount,"
			           " currency, version, thresholds)"
			           " SELECT t.team_id, c.cost_center_id, $3::date, $4::numeric, $5, $6,"
			           "  ('{' || $7 || '}')::int[]"
			           " FROM (SELECT 1) one"
			           " LEFT JOIN aimeter.teams t ON t.name = $1"
			           " LEFT JOIN aimeter.cost_centers c ON c.code = $2"
			           " WHERE (t.team_id IS NOT NULL) <> (c.cost_center_id IS NOT NULL)"
			           " RETURNING budget_id, to_char(month, 'YYYY-MM') AS month, amount,"
			           " currency, version, thresholds",
			           7, params, f);
	}
}
