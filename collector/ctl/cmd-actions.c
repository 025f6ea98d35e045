/*
 * cmd-actions.c: `aimeterctl report actions`: what the AI tools produced
 * (docs/actions.md) per team and month, from the reporting views
 * (collector/schema/views/reporting.action_*.sql); groups below the
 * minimum group size are hidden there, not here.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static const char help[] =
	"usage: aimeterctl report actions [--month YYYY-MM]\n"
	"                                [--by outcome|model|kind|inventory]\n\n"
	"outcome (default): per team, tool and month: people, tool calls, acceptance\n"
	"rate, accepted edits, lines added and removed by AI, commits, pull requests,\n"
	"sessions with edits, and the usage cost of the same team, tool and month\n"
	"per accepted edit, per 1,000 AI lines, per commit and per pull request.\n"
	"model: the same per model too; an action counts under the model its session\n"
	"used most (by cost) that day, \"unattributed\" without one.\n"
	"kind: calls and lines per team, tool, kind and decision.\n"
	"inventory: sub-agents, skills and MCP servers per team (people, calls);\n"
	"names hashed by the agent unless on its allowlist.\n\n"
	"options:\n"
	"  --month YYYY-MM         one UTC month (default: every month)\n"
	"  --by VIEW               outcome, model, kind or inventory\n"
	"  --format FMT            table (default), csv or json\n" CTL_COMMON_HELP;

static const char outcome_sql[] =
	"SELECT month_label AS month, team, tool, people, calls, acceptance_rate, accepted_edits,"
	" ai_lines_added, ai_lines_removed, commits, pull_requests, sessions_with_edits, cost_usd,"
	" cost_per_accepted_edit, cost_per_1k_ai_lines, cost_per_commit, cost_per_pull_request"
	" FROM reporting.action_outcomes_monthly"
	" WHERE $1::date IS NULL OR month = $1::date ORDER BY month, team, tool";

static const char model_sql[] =
	"SELECT month_label AS month, team, tool, model, people, calls, acceptance_rate,"
	" accepted_edits, ai_lines_added, ai_lines_removed, commits, pull_requests,"
	" sessions_with_edits, cost_usd, cost_per_accepted_edit, cost_per_1k_ai_lines,"
	" cost_per_commit, cost_per_pull_request FROM reporting.action_outcomes_by_model_monthly"
	" WHERE $1::date IS NULL OR month = $1::date ORDER BY month, team, tool, model";

static const char kind_sql[] =
	"SELECT month_label AS month, team, tool, kind, decision, people, calls, lines_added,"
	" lines_removed, commits, pull_requests FROM reporting.action_kinds_monthly"
	" WHERE $1::date IS NULL OR month = $1::date ORDER BY month, team, tool, kind, decision";

static const char inventory_sql[] =
	"SELECT month_label AS month, team, kind, name, people, calls"
	" FROM reporting.action_inventory_monthly"
	" WHERE $1::date IS NULL OR month = $1::date ORDER BY month, team, kind, calls DESC, name";

int
cmd_report_actions(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *month = NULL, *by = NULL;
	enum print_format f = PRINT_TABLE;
	const struct options_entry entries[] = {
		{ "month", 0, &month, NULL },
		{ "by", 0, &by, NULL },
		{ NULL, 0, NULL, NULL },
	};
	/* argv[1] is "actions": options start after it. */
	const struct options_spec spec = { help, entries, &f, 2, false };
	char first[11];
	const char *params[1] = { NULL };
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind != argc) {
		fprintf(stderr, "aimeterctl: report actions takes no arguments; see --help\n");
		return CTL_USAGE;
	}
	if (month != NULL) {
		if (rep_parse_month(month, first) < 0) {
			fprintf(stderr, "aimeterctl: --month is YYYY-MM\n");
			return CTL_USAGE;
		}
		params[0] = first;
	}
	if (by == NULL || strcmp(by, "outcome") == 0) {
		return print_query(&opts, outcome_sql, 1, params, f);
	}
	if (strcmp(by, "model") == 0) {
		return print_query(&opts, model_sql, 1, params, f);
	}
	if (strcmp(by, "kind") == 0) {
		return print_query(&opts, kind_sql, 1, params, f);
	}
	if (strcmp(by, "inventory") == 0) {
		return print_query(&opts, inventory_sql, 1, params, f);
	}
	fprintf(stderr, "aimeterctl: --by is outcome, model, kind or inventory\n");
	return CTL_USAGE;
}
