/*
 * cmd-adoption.c: the issue-7 `aimeterctl report` subcommands:
 *   report adoption --month YYYY-MM | --week YYYY-Www [--by team|tool]
 *   report stalled [--as-of DATE]
 *   report seats [--as-of DATE] | report seat-cost --month YYYY-MM
 *   report budget [--month YYYY-MM]
 *   report booked --month YYYY-MM [--by team|cost-center]
 *   report sources [--month YYYY-MM] (issue 15: usage per source, docs/otlp.md)
 * All of them read views and functions aimeter_reader may use: no person
 * appears, and adoption rows of teams under the minimum group size do not.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static const char *const handled[] = { "adoption", "stalled", "seats", "seat-cost", "budget",
				       "booked", "sources" };

bool
rep_report_handles(const char *what)
{
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
		if (strcmp(what, handled[i]) == 0) {
			return true;
		}
	}
	return false;
}

static const char help[] =
	"usage: aimeterctl report adoption --month YYYY-MM|--week YYYY-Www [--by team|tool]\n"
	"       aimeterctl report stalled [--as-of YYYY-MM-DD]\n"
	"       aimeterctl report seats [--as-of YYYY-MM-DD]\n"
	"       aimeterctl report seat-cost --month YYYY-MM\n"
	"       aimeterctl report budget [--month YYYY-MM]\n"
	"       aimeterctl report booked --month YYYY-MM [--by team|cost-center]\n"
	"       aimeterctl report sources [--month YYYY-MM]\n\n"
	"adoption: active people per team (headcount, active share, new, returning,\n"
	"retained, churned, light/moderate/heavy cohorts) or per tool, for one ISO\n"
	"week or UTC month. Teams under the minimum group size are not shown.\n"
	"stalled: teams whose weekly active share fell two weeks running, spend\n"
	"rising while active people fall, seats idle for 14 days or more.\n"
	"seats: seat utilisation (assigned vs active in the last 28 days).\n"
	"seat-cost: amortised seat cost by subscription and team.\n"
	"budget: budget versus actual with the thresholds crossed.\n"
	"booked: cost booked in an accounting month (usage, seats, corrections).\n"
	"sources: calls, tokens and cost per month, team and source: agent (a\n"
	"transcript record), otel (an OpenTelemetry export only) or both (a transcript\n"
	"record an export corroborated, counted once).\n\n"
	"options:\n"
	"  --month YYYY-MM         a UTC month\n"
	"  --week YYYY-Www         an ISO week (adoption)\n"
	"  --by DIM                team (default) or tool; team or cost-center (booked)\n"
	"  --as-of YYYY-MM-DD      evaluate as of this day (default: today)\n"
	"  --format FMT            table (default), csv or json\n" CTL_COMMON_HELP;

static int
adoption(const struct ctl_opts *opts, const char *month, const char *week, const char *by,
	 enum print_format f)
{
	char period[11];
	const char *params[2] = { NULL, period };

	if ((month == NULL) == (week == NULL)) {
		fprintf(stderr, "aimeterctl: report adoption needs --month YYYY-MM or --week YYYY-Www\n");
		return CTL_USAGE;
	}
	if (month != NULL ? rep_parse_month(month, period) < 0 : rep_parse_week(week, period) < 0) {
		fprintf(stderr, "aimeterctl: malformed %s\n", month != NULL ? "--month (YYYY-MM)" :
									     "--week (YYYY-Www)");
		return CTL_USAGE;
	}
	params[0] = month != NULL ? "month" : "week";
	if (by == NULL || strcmp(by, "team") == 0) {
		return print_query(opts,
			           "SELECT team, headcount, active_people, active_share, person_days,"
			           " new_people, returning_people, retained_people, churned_people,"
			           " light, moderate, heavy, inactive"
			           " FROM reporting.adoption_summary($1, $2::date)",
			           2, params, f);
	}
	if (strcmp(by, "tool") == 0) {
		return print_query(opts,
			           month != NULL ?
				           "SELECT tool, active_people, person_days"
				           " FROM reporting.adoption_monthly_by_tool"
				           " WHERE month = $2::date AND $1 = 'month'"
				           " ORDER BY tool <> 'all', tool" :
				           "SELECT tool, active_people, person_days"
				           " FROM reporting.adoption_weekly_by_tool"
				           " WHERE week_start = $2::date AND $1 = 'week'"
				           " ORDER BY tool <> 'all', tool",
			           2, params, f);
	}
	fprintf(stderr, "aimeterctl: --by is team or tool\n");
	return CTL_USAGE;
}

int
rep_report(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *month = NULL, *week = NULL, *by = NULL, *as_of = NULL, *what = argv[1];
	enum print_format f = PRINT_TABLE;
	const struct options_entry entries[] = {
		{ "month", 0, &month, NULL },
		{ "week", 0, &week, NULL },
		{ "by", 0, &by, NULL },
		{ "as-of", 0, &as_of, NULL },
		{ NULL, 0, NULL, NULL },
	};
	/* argv[1] is the subcommand: options start after it. */
	const struct options_spec spec = { help, entries, &f, 2, false };
	char first[11];
	const char *params[1];
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind != argc) {
		fprintf(stderr, "aimeterctl: report %s takes no arguments; see --help\n", what);
		return CTL_USAGE;
	}
	if (as_of != NULL && !rep_is_date(as_of)) {
		fprintf(stderr, "aimeterctl: --as-of is YYYY-MM-DD\n");
		return CTL_USAGE;
	}
	if (month != NULL && rep_parse_month(month, first) < 0) {
		fprintf(stderr, "aimeterctl: --month is YYYY-MM\n");
		return CTL_USAGE;
	}
	if (strcmp(what, "adoption") == 0) {
		return adoption(&opts, month, week, by, f);
	}
	params[0] = as_of;
	if (strcmp(what, "stalled") == 0) {
		return print_query(&opts,
			           "SELECT signal, coalesce(team, '') AS team,"
			           " coalesce(subscription, '') AS subscription, week, detail"
			           " FROM reporting.stalled_signals_as_of(coalesce($1::date, current_date))"
			           " ORDER BY 1, 2, 3",
			           1, params, f);
	}
	if (strcmp(what, "seats") == 0) {
		return print_query(&opts,
			           "SELECT subscription, vendor, plan, coalesce(tool, 'any') AS tool,"
			           " seats, assigned, unassigned, active_28d, idle_14d, utilisation"
			           " FROM reporting.seat_utilisation_as_of(coalesce($1::date, current_date))",
			           1, params, f);
	}
	params[0] = month != NULL ? first : NULL;
	if (strcmp(what, "budget") == 0) {
		return print_query(&opts,
			           "SELECT month, scope, name, version, currency, budget,"
			           " round(actual, 2) AS actual, pct_used,"
			           " array_to_string(thresholds_crossed, ',') AS thresholds_crossed,"
			           " round(forecast, 2) AS forecast,"
			           " array_to_string(fx_missing, ',') AS fx_missing"
			           " FROM reporting.budget_vs_actual"
			           " WHERE $1::date IS NULL OR month = to_char($1::date, 'YYYY-MM')"
			           " ORDER BY month, scope, name",
			           1, params, f);
	}
	if (strcmp(what, "sources") == 0) {
		return print_query(&opts,
			           "SELECT to_char(month, 'YYYY-MM') AS month, team, source, events,"
			           " input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,"
			           " cost_usd FROM reporting.usage_sources_monthly"
			           " WHERE $1::date IS NULL OR month = $1::date ORDER BY month, team, source",
			           1, params, f);
	}
	if (month == NULL) {
		fprintf(stderr, "aimeterctl: report %s needs --month YYYY-MM\n", what);
		return CTL_USAGE;
	}
	if (strcmp(what, "seat-cost") == 0) {
		return print_query(&opts,
			           "SELECT subscription, vendor, plan, team, cost_center, seat_days,"
			           " round(amount, 2) AS amount, currency"
			           " FROM reporting.seat_cost_monthly WHERE month = $1::date"
			           " ORDER BY subscription, team",
			           1, params, f);
	}
	/* booked */
	if (by == NULL || strcmp(by, "team") == 0) {
		return print_query(&opts,
			           "SELECT team, currency, round(coalesce(usage_cost, 0), 2) AS usage_cost,"
			           " round(coalesce(seat_cost, 0), 2) AS seat_cost,"
			           " round(coalesce(corrections, 0), 2) AS corrections,"
			           " round(effective_cost, 2) AS effective_cost,"
			           " round(coalesce(api_equivalent_cost, 0), 2) AS api_equivalent_cost"
			           " FROM reporting.booked_by_team WHERE month = $1::date ORDER BY team",
			           1, params, f);
	}
	if (strcmp(by, "cost-center") == 0) {
		return print_query(&opts,
			           "SELECT cost_center, currency,"
			           " round(coalesce(usage_cost, 0), 2) AS usage_cost,"
			           " round(coalesce(seat_cost, 0), 2) AS seat_cost,"
			           " round(coalesce(corrections, 0), 2) AS corrections,"
			           " round(effective_cost, 2) AS effective_cost,"
			           " round(coalesce(api_equivalent_cost, 0), 2) AS api_equivalent_cost"
			           " FROM reporting.booked_by_cost_center WHERE month = $1::date"
			           " ORDER BY cost_center",
			           1, params, f);
	}
	fprintf(stderr, "aimeterctl: --by is team or cost-center\n");
	return CTL_USAGE;
}
