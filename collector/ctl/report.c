/*
 * report.c: `aimeterctl report spend|unpriced|rejected` and `aimeterctl
 * reattribute`. Spend comes from the reporting views (docs/reporting.md);
 * money is unrounded in the database and rounded here, for display only.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

/* Money columns: 2 decimals in a table, 6 in CSV and JSON (display only). */
#define MONEY(col, f) ((f) == PRINT_TABLE ? "round(" col ", 2)" : "round(" col ", 6)")

static int
report_spend(const struct ctl_opts *opts, const char *month, const char *by, bool reveal,
	     enum print_format f)
{
	static const struct {
		const char *by, *view, *col;
	} dims[] = {
		{ "team", "spend_by_team", "team" },
		{ "cost-center", "spend_by_cost_center", "cost_center" },
		{ "model", "spend_by_model", "model" },
		{ "tool", "spend_by_tool", "tool" },
	};
	char sql[2048], first[16];
	const char *params[1] = { first };
	int y, m, n = 0;

	if (month == NULL || sscanf(month, "%4d-%2d%n", &y, &m, &n) != 2 || n != 7 ||
	    month[7] != '\0' || m < 1 || m > 12) {
		fprintf(stderr, "aimeterctl: --month YYYY-MM is required\n");
		return CTL_USAGE;
	}
	snprintf(first, sizeof(first), "%04d-%02d-01", y, m);
	if (by == NULL) {
		fprintf(stderr, "aimeterctl: --by team|cost-center|model|tool|person is required\n");
		return CTL_USAGE;
	}
	if (strcmp(by, "person") == 0) {
		/* Admin only: usage_daily and people are not granted to readers. */
		snprintf(sql, sizeof(sql),
			 "SELECT %s AS person, sum(d.events)::bigint AS events, %s AS cost_usd,"
			 " %s AS subscription_usd, sum(d.unpriced_events)::bigint AS unpriced_events"
			 "  FROM aimeter.usage_daily d"
			 "  LEFT JOIN aimeter.people p ON p.person_key = d.person_key"
			 " WHERE d.day >= $1::date AND d.day < $1::date + interval '1 month'"
			 " GROUP BY 1 ORDER BY 3 DESC, 1",
			 reveal ? "coalesce(p.label, CASE WHEN d.person_key = '' THEN '(none)'"
				  " ELSE '(unknown) ' || encode(d.person_key, 'hex') END)" :
				  "CASE WHEN d.person_key = '' THEN '(none)'"
				  " ELSE encode(d.person_key, 'hex') END",
			 f == PRINT_TABLE ? "round(sum(d.cost), 2)" : "round(sum(d.cost), 6)",
			 f == PRINT_TABLE ?
				 "round(coalesce(sum(d.cost) FILTER (WHERE d.billing_mode ="
				 " 'subscription'), 0), 2)" :
				 "round(coalesce(sum(d.cost) FILTER (WHERE d.billing_mode ="
				 " 'subscription'), 0), 6)");
		return print_query(opts, sql, 1, params, f);
	}
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		const char *unassigned;

		if (strcmp(by, dims[i].by) != 0) {
			continue;
		}
		/* Unassigned is always listed, zero or not. */
		unassigned = i < 2 ? " UNION ALL SELECT 'unassigned', 0, 0, 0, 0 WHERE NOT EXISTS"
				     " (SELECT 1 FROM v WHERE v.dim = 'unassigned')" :
				     "";
		snprintf(sql, sizeof(sql),
			 "WITH v AS (SELECT %s AS dim, events, cost_usd, subscription_usd,"
			 " unpriced_events FROM reporting.%s WHERE month = $1::date)"
			 " SELECT dim AS \"%s\", events, %s AS cost_usd, %s AS subscription_usd,"
			 " unpriced_events FROM (SELECT * FROM v%s) s"
			 " ORDER BY dim = 'unassigned', cost_usd DESC, dim",
			 dims[i].col, dims[i].view, strcmp(by, "cost-center") == 0 ? "cost_center" : by,
			 MONEY("cost_usd", f), MONEY("subscription_usd", f), unassigned);
		return print_query(opts, sql, 1, params, f);
	}
	fprintf(stderr, "aimeterctl: --by is team, cost-center, model, tool or person\n");
	return CTL_USAGE;
}

static const char report_help[] =
	"usage: aimeterctl report spend --month YYYY-MM --by DIM [options]\n"
	"       aimeterctl report unpriced [options]\n"
	"       aimeterctl report rejected [options]\n\n"
	"spend: events and list-price cost of priced usage in a UTC month by team,\n"
	"cost-center, model, tool or person; subscription_usd is the part of cost_usd\n"
	"from subscription usage (an API-equivalent value, not a bill); unpriced\n"
	"events are counted apart, never as $0. `unassigned` is always listed.\n"
	"--by person needs the admin role and prints person keys; --reveal prints\n"
	"the person's identity instead.\n"
	"unpriced: models seen without a price row. rejected: rejected events by\n"
	"reason and tool.\n\n"
	"options:\n"
	"  --month YYYY-MM         the month (spend)\n"
	"  --by DIM                team|cost-center|model|tool|person (spend)\n"
	"  --reveal                identities instead of person keys (--by person)\n"
	"  --format FMT            table (default), csv or json\n" CTL_COMMON_HELP;

int
cmd_report(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *month = NULL, *by = NULL, *what;
	enum print_format f = PRINT_TABLE;
	bool reveal = false;
	const struct options_entry entries[] = {
		{ "month", 0, &month, NULL },
		{ "by", 0, &by, NULL },
		{ "reveal", 0, NULL, &reveal },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { report_help, entries, &f, 1, false };
	int rc;

	if (argc > 1 && strcmp(argv[1], "actions") == 0) {
		return cmd_report_actions(argc, argv); /* cmd-actions.c (issue 14) */
	}
	if (argc > 1 && strcmp(argv[1], "variance") == 0) {
		return cmd_report_variance(argc, argv); /* cmd-billing.c (issue 16) */
	}
	if (argc > 1 && rep_report_handles(argv[1])) {
		return rep_report(argc, argv); /* cmd-adoption.c (issue 7) */
	}
	rc = options_parse(&spec, argc, argv, &opts);
	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "aimeterctl: report needs one of spend, unpriced, rejected; "
				"see --help\n");
		return CTL_USAGE;
	}
	what = argv[optind];
	if (strcmp(what, "spend") == 0) {
		return report_spend(&opts, month, by, reveal, f);
	}
	if (strcmp(what, "unpriced") == 0) {
		return print_query(&opts,
				   "SELECT model, tool, to_char(first_month, 'YYYY-MM') AS first_month,"
				   " to_char(last_month, 'YYYY-MM') AS last_month, unpriced_events"
				   " FROM reporting.unpriced_models ORDER BY unpriced_events DESC, model",
				   0, NULL, f);
	}
	if (strcmp(what, "rejected") == 0) {
		return print_query(&opts,
				   "SELECT reason, coalesce(tool, '') AS tool, count(*) AS events,"
				   " to_char(min(received_at), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
				   " AS first_received,"
				   " to_char(max(received_at), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
				   " AS last_received"
				   " FROM aimeter.rejected_events GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
				   0, NULL, f);
	}
	fprintf(stderr, "aimeterctl: unknown report \"%s\"; see --help\n", what);
	return CTL_USAGE;
}

static const char reattribute_help[] =
	"usage: aimeterctl reattribute --identity ID [options]\n\n"
	"Resolves the person, team and cost centre of every stored event of\n"
	"this identity again from the directory as of each event's time\n"
	"(e.g. after importing a membership for someone who was\n"
	"unassigned) and moves the rollups with them. Events with no\n"
	"membership keep their current team.\n\n"
	"options:\n"
	"  --identity ID           the identity (email, login) to fix\n" CTL_COMMON_HELP;

int
cmd_reattribute(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *identity = NULL;
	const struct options_entry entries[] = {
		{ "identity", 0, &identity, NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { reattribute_help, entries, NULL, 1, false };
	uint8_t key[256], mac[AM_IDENTITY_HMAC_LEN];
	char hex[67];
	const char *params[1] = { hex };
	size_t key_len = 0;
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (identity == NULL || optind != argc) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl reattribute --identity ID\n");
		return CTL_USAGE;
	}
	if (ctl_person_key(&opts, key, &key_len) < 0 ||
	    identity_hmac(key, key_len, identity, mac) < 0) {
		return CTL_FAIL;
	}
	rep_hmac_hex(mac, hex);
	return print_value(&opts, "SELECT aimeter.reattribute($1::bytea)", 1, params,
			   "events moved: ");
}
