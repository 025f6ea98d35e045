/*
 * cmd-sources.c: `aimeterctl report sources`: per team and month, how much
 * usage came from the agent's transcripts, from OpenTelemetry exports only,
 * or from both (one call counted once; docs/otlp.md), from the view
 * collector/schema/views/reporting.usage_sources_monthly.sql.
 */
#include <getopt.h>
#include <stdio.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static const char help[] =
	"usage: aimeterctl report sources [--month YYYY-MM]\n\n"
	"Per month, team and source: calls, tokens and cost. Sources: agent (a\n"
	"transcript record the agent read), otel (an OpenTelemetry export only),\n"
	"both (a transcript record an export corroborated, counted once).\n\n"
	"options:\n"
	"  --month YYYY-MM         one UTC month (default: every month)\n"
	"  --format FMT            table (default), csv or json\n" CTL_COMMON_HELP;

static const char sources_sql[] =
	"SELECT to_char(month, 'YYYY-MM') AS month, team, source, events, input_tokens,"
	" output_tokens, cache_write_tokens, cache_read_tokens, cost_usd"
	" FROM reporting.usage_sources_monthly"
	" WHERE $1::date IS NULL OR month = $1::date ORDER BY month, team, source";

int
cmd_report_sources(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *month = NULL;
	enum print_format f = PRINT_TABLE;
	const struct options_entry entries[] = {
		{ "month", 0, &month, NULL },
		{ NULL, 0, NULL, NULL },
	};
	/* argv[1] is "sources": options start after it. */
	const struct options_spec spec = { help, entries, &f, 2, false };
	char first[11];
	const char *params[1] = { NULL };
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind != argc) {
		fprintf(stderr, "aimeterctl: report sources takes no arguments; see --help\n");
		return CTL_USAGE;
	}
	if (month != NULL) {
		if (rep_parse_month(month, first) < 0) {
			fprintf(stderr, "aimeterctl: --month is YYYY-MM\n");
			return CTL_USAGE;
		}
		params[0] = first;
	}
	return print_query(&opts, sources_sql, 1, params, f);
}
