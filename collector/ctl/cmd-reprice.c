/*
 * cmd-reprice.c: `aimeterctl reprice --from D --to D [--model GLOB]`: price
 * the events of those UTC days again after price book rows were added
 * (aimeter.reprice(): open months in place, closed months as corrections in
 * the next open month). A second run changes nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static const char help[] =
	"usage: aimeterctl reprice --from YYYY-MM-DD --to YYYY-MM-DD [--model GLOB]\n\n"
	"Prices the events of the UTC days from..to (both included) again with\n"
	"the price book as it is now: after a price row was added with an\n"
	"effective_from in the past, or for events that had no price. An event\n"
	"of an open month changes in place, with its rollups; one of a closed\n"
	"month keeps the month's snapshot and books the difference as a\n"
	"correction in the next open month. Running it again changes nothing.\n"
	"Prints how many events changed, how many were unpriced before, and the\n"
	"cost changed in open months and booked as corrections.\n\n"
	"options:\n"
	"  --from YYYY-MM-DD       first day\n"
	"  --to YYYY-MM-DD         last day\n"
	"  --model GLOB            only these models (a glob, as in the price book)\n"
	"  --format FMT            table (default), csv or json\n" CTL_COMMON_HELP;

int
cmd_reprice(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *from = NULL, *to = NULL, *model = NULL;
	enum print_format f = PRINT_TABLE;
	const struct options_entry entries[] = {
		{ "from", 0, &from, NULL },
		{ "to", 0, &to, NULL },
		{ "model", 0, &model, NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, &f, 1, false };
	const char *params[3];
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind != argc || from == NULL || to == NULL || !rep_is_date(from) ||
	    !rep_is_date(to) || (model != NULL && model[0] == '\0')) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl reprice --from YYYY-MM-DD "
				"--to YYYY-MM-DD [--model GLOB]; see --help\n");
		return CTL_USAGE;
	}
	params[0] = from;
	params[1] = to;
	params[2] = model;
	return print_query(&opts,
			   "SELECT r.events, r.newly_priced, r.delta_open AS cost_changed_open,"
			   " r.delta_closed AS cost_booked_as_corrections"
			   " FROM aimeter.reprice($1::date, $2::date, $3) r",
			   3, params, f);
}
