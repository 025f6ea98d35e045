/*
 * cmd-initiative.c: stage-gate initiatives.
 *   initiative add NAME --owner O --category C --start DATE
 *                  --target "METRIC OP N by DATE" --kill "METRIC OP N by DATE"
 *                  [--teams a,b] [--tools x,y] [--projects p,q]
 *   initiative list
 *   initiative status [--as-of DATE]
 * Metrics: active_people, active_share, events, cost, cost_per_active_person,
 * each over the 28 days before the evaluation day. Status: on_track,
 * at_risk or kill (docs/reports-finance.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static const char help[] =
	"usage: aimeterctl initiative add NAME --owner O --category C --start YYYY-MM-DD\n"
	"           --target \"METRIC OP N by YYYY-MM-DD\" --kill \"METRIC OP N by YYYY-MM-DD\"\n"
	"           [--teams A,B] [--tools X,Y] [--projects P,Q]\n"
	"       aimeterctl initiative list\n"
	"       aimeterctl initiative status [--as-of YYYY-MM-DD]\n\n"
	"A pilot with its gate set before it starts: a target and a kill criterion,\n"
	"each a metric (active_people, active_share, events, cost,\n"
	"cost_per_active_person; over the 28 days before the day evaluated), a\n"
	"comparator (>=, >, <=, <, =), a number and a date. Categories:\n"
	"cost_reduction, revenue_growth, risk_avoidance, product_embedding. Scope:\n"
	"teams, tools and project labels (empty: all).\n"
	"status: on_track, at_risk or kill, with the values behind it.\n\n"
	"options:\n"
	"  --as-of YYYY-MM-DD      evaluate as of this day (default: today)\n"
	"  --format FMT            table (default), csv or json\n" CTL_COMMON_HELP;

int
cmd_initiative(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *owner = NULL, *category = NULL, *start = NULL, *target = NULL, *kill = NULL,
		   *teams = "", *tools = "", *projects = "", *as_of = NULL, *what;
	enum print_format f = PRINT_TABLE;
	const struct options_entry entries[] = {
		{ "owner", 0, &owner, NULL },
		{ "category", 0, &category, NULL },
		{ "start", 0, &start, NULL },
		{ "target", 0, &target, NULL },
		{ "kill", 0, &kill, NULL },
		{ "teams", 0, &teams, NULL },
		{ "tools", 0, &tools, NULL },
		{ "projects", 0, &projects, NULL },
		{ "as-of", 0, &as_of, NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, &f, 1, false };
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind >= argc) {
		fprintf(stderr, "aimeterctl: initiative needs add, list or status; see --help\n");
		return CTL_USAGE;
	}
	what = argv[optind];
	if (strcmp(what, "list") == 0 && optind + 1 == argc) {
		return print_query(&opts,
			           "SELECT n.name, n.owner, n.value_category, n.start_date,"
			           " array_to_string(n.scope_teams, ',') AS teams,"
			           " array_to_string(n.scope_tools, ',') AS tools,"
			           " array_to_string(n.scope_projects, ',') AS projects,"
			           " t.metric || ' ' || t.comparator || ' ' || t.target || ' by ' || t.due AS target,"
			           " k.metric || ' ' || k.comparator || ' ' || k.target || ' by ' || k.due AS kill"
			           " FROM aimeter.initiatives n"
			           " JOIN aimeter.initiative_criteria t ON t.initiative_id = n.initiative_id"
			           "  AND t.kind = 'target'"
			           " JOIN aimeter.initiative_criteria k ON k.initiative_id = n.initiative_id"
			           "  AND k.kind = 'kill' ORDER BY n.name",
			           0, NULL, f);
	}
	if (strcmp(what, "status") == 0 && optind + 1 == argc) {
		const char *params[1] = { as_of };

		if (as_of != NULL && !rep_is_date(as_of)) {
			fprintf(stderr, "aimeterctl: --as-of is YYYY-MM-DD\n");
			return CTL_USAGE;
		}
		return print_query(&opts,
			           "SELECT initiative, owner, value_category, status, reason,"
			           " metric || ' ' || comparator || ' ' || target || ' by ' || due AS target,"
			           " round(value, 4) AS value,"
			           " kill_metric || ' ' || kill_comparator || ' ' || kill_target || ' by '"
			           "  || kill_due AS kill, round(kill_value, 4) AS kill_value,"
			           " criteria_set_before_start"
			           " FROM reporting.initiative_status_as_of(coalesce($1::date, current_date))",
			           1, params, f);
	}
	if (strcmp(what, "add") == 0 && optind + 2 == argc) {
		const char *params[9] = { argv[optind + 1], owner, category, teams, tools, projects,
					  start, target, kill };

		if (owner == NULL || category == NULL || !rep_is_date(start) || target == NULL ||
		    kill == NULL) {
			fprintf(stderr, "aimeterctl: initiative add needs --owner, --category, "
					"--start YYYY-MM-DD, --target and --kill\n");
			return CTL_USAGE;
		}
		return print_query(&opts,
			           "SELECT aimeter.initiative_add($1, $2, $3,"
			           " string_to_array(nullif($4, ''), ','), string_to_array(nullif($5, ''), ','),"
			           " string_to_array(nullif($6, ''), ','), $7::date, $8, $9) AS initiative_id",
			           9, params, f);
	}
	fprintf(stderr, "aimeterctl: usage: aimeterctl initiative add NAME ...|list|status\n");
	return CTL_USAGE;
}
