/*
 * cmd-month.c: `aimeterctl month close|reopen|status`.
 *   month close YYYY-MM            freeze a finished month: its ledger lines
 *                                  become a snapshot with a SHA-256 content hash;
 *                                  later data for it is booked as corrections
 *                                  in the next open month
 *   month reopen YYYY-MM --reason TEXT
 *                                  exceptional; logged with the reason
 *   month status                   every period, with its hash and the hash of
 *                                  its live ledger (they match for closed months)
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static const char help[] =
	"usage: aimeterctl month close YYYY-MM\n"
	"       aimeterctl month reopen YYYY-MM --reason TEXT\n"
	"       aimeterctl month status [--format FMT]\n\n"
	"close: freezes a finished UTC month (usage, seat amortisation and\n"
	"corrections booked in it) as a snapshot with a content hash. Late\n"
	"events for a closed month are booked as corrections in the next open\n"
	"month with their service day; the closed month's reports never change.\n"
	"reopen: exceptional, needs a reason, and is logged.\n\n"
	"options:\n"
	"  --reason TEXT           why the month is reopened (reopen)\n"
	"  --format FMT            table (default), csv or json (status)\n" CTL_COMMON_HELP;

int
cmd_month(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *reason = NULL, *what;
	enum print_format f = PRINT_TABLE;
	const struct options_entry entries[] = {
		{ "reason", 0, &reason, NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, &f, 1, false };
	char first[11];
	const char *params[2] = { first, NULL };
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind >= argc) {
		fprintf(stderr, "aimeterctl: month needs close, reopen or status; see --help\n");
		return CTL_USAGE;
	}
	what = argv[optind];
	if (strcmp(what, "status") == 0 && optind + 1 == argc) {
		return print_query(&opts,
			           "SELECT to_char(p.month, 'YYYY-MM') AS month, p.status, p.line_count,"
			           " p.content_hash,"
			           " aimeter.ledger_hash(p.month, p.status = 'closed') AS snapshot_hash,"
			           " aimeter.ledger_hash(p.month, true) AS live_hash,"
			           " to_char(p.closed_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS closed_at"
			           " FROM aimeter.accounting_periods p ORDER BY p.month",
			           0, NULL, f);
	}
	if (optind + 2 != argc || rep_parse_month(argv[optind + 1], first) < 0) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl month close|reopen YYYY-MM\n");
		return CTL_USAGE;
	}
	if (strcmp(what, "close") == 0) {
		return print_query(&opts,
			           "SELECT to_char($1::date, 'YYYY-MM') AS closed,"
			           " aimeter.month_close($1::date) AS content_hash",
			           1, params, f);
	}
	if (strcmp(what, "reopen") == 0) {
		if (reason == NULL || reason[0] == '\0') {
			fprintf(stderr, "aimeterctl: month reopen needs --reason TEXT\n");
			return CTL_USAGE;
		}
		params[1] = reason;
		return print_query(&opts,
			           "SELECT to_char($1::date, 'YYYY-MM') AS reopened,"
			           " aimeter.month_reopen($1::date, $2) AS previous_hash",
			           2, params, f);
	}
	fprintf(stderr, "aimeterctl: unknown month command \"%s\"\n", what);
	return CTL_USAGE;
}
