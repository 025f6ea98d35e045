/*
 * report.c: `aimeterctl report spend|unpriced|rejected` and `aimeterctl
 * reattribute`. Spend comes from the reporting views (docs/reporting.md);
 * money is unrounded in the database and rounded here, for display only.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "rep.h"

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON, FORMAT_MAX };

static bool
is_number_type(Oid t)
{
	/* int2, int4, int8, numeric, float4, float8 */
	return t == 21 || t == 23 || t == 20 || t == 1700 || t == 700 || t == 701;
}

static void
csv_field(const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"') {
			putchar('"');
		}
		putchar(*s);
	}
	putchar('"');
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

/* print_result(r, f): every row of r, with a header (table, CSV) or as JSON objects. */
static void
print_result(PGresult *r, enum format f)
{
	int rows = PQntuples(r), cols = PQnfields(r);

	if (f == FORMAT_JSON) {
		printf("[");
		for (int i = 0; i < rows; i++) {
			printf("%s\n  {", i ? "," : "");
			for (int j = 0; j < cols; j++) {
				printf("%s", j ? ", " : "");
				json_string(PQfname(r, j));
				printf(": ");
				if (PQgetisnull(r, i, j)) {
					printf("null");
				} else if (is_number_type(PQftype(r, j))) {
					fputs(PQgetvalue(r, i, j), stdout);
				} else {
					json_string(PQgetvalue(r, i, j));
				}
			}
			printf("}");
		}
		printf("%s]\n", rows ? "\n" : "");
		return;
	}
	if (f == FORMAT_CSV) {
		for (int j = 0; j < cols; j++) {
			printf("%s", j ? "," : "");
			csv_field(PQfname(r, j));
		}
		putchar('\n');
		for (int i = 0; i < rows; i++) {
			for (int j = 0; j < cols; j++) {
				printf("%s", j ? "," : "");
				csv_field(PQgetvalue(r, i, j));
			}
			putchar('\n');
		}
		return;
	}
	{
		int width[64] = { 0 };

		for (int j = 0; j < cols && j < 64; j++) {
			width[j] = (int)strlen(PQfname(r, j));
			for (int i = 0; i < rows; i++) {
				int w = PQgetlength(r, i, j);
				width[j] = w > width[j] ? w : width[j];
			}
		}
		for (int j = 0; j < cols && j < 64; j++) {
			printf(is_number_type(PQftype(r, j)) ? "%s%*s" : "%s%-*s", j ? "  " : "",
			       width[j], PQfname(r, j));
		}
		putchar('\n');
		for (int i = 0; i < rows; i++) {
			for (int j = 0; j < cols && j < 64; j++) {
				printf(is_number_type(PQftype(r, j)) ? "%s%*s" : "%s%-*s",
				       j ? "  " : "", width[j], PQgetvalue(r, i, j));
			}
			putchar('\n');
		}
	}
}

static int
parse_format(const char *s, enum format *ret)
{
	if (strcmp(s, "table") == 0) {
		*ret = FORMAT_TABLE;
	} else if (strcmp(s, "csv") == 0) {
		*ret = FORMAT_CSV;
	} else if (strcmp(s, "json") == 0) {
		*ret = FORMAT_JSON;
	} else {
		fprintf(stderr, "aimeterctl: --format is table, csv or json\n");
		return -1;
	}
	return 0;
}

/* Money columns: 2 decimals in a table, 6 in CSV and JSON (display only). */
#define MONEY(col, f) ((f) == FORMAT_TABLE ? "round(" col ", 2)" : "round(" col ", 6)")

static int
run_query(const struct ctl_opts *opts, const char *sql, int nparams, const char *const *params,
	  enum format f)
{
	PGconn *conn = ctl_connect(opts);
	PGresult *r;

	if (conn == NULL) {
		return CTL_FAIL;
	}
	r = ctl_query(conn, sql, nparams, params);
	if (r == NULL) {
		PQfinish(conn);
		return CTL_FAIL;
	}
	print_result(r, f);
	PQclear(r);
	PQfinish(conn);
	return CTL_OK;
}

static int
report_spend(const struct ctl_opts *opts, const char *month, const char *by, bool reveal,
	     enum format f)
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
			 f == FORMAT_TABLE ? "round(sum(d.cost), 2)" : "round(sum(d.cost), 6)",
			 f == FORMAT_TABLE ?
				 "round(coalesce(sum(d.cost) FILTER (WHERE d.billing_mode ="
				 " 'subscription'), 0), 2)" :
				 "round(coalesce(sum(d.cost) FILTER (WHERE d.billing_mode ="
				 " 'subscription'), 0), 6)");
		return run_query(opts, sql, 1, params, f);
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
		return run_query(opts, sql, 1, params, f);
	}
	fprintf(stderr, "aimeterctl: --by is team, cost-center, model, tool or person\n");
	return CTL_USAGE;
}

static void
report_help(void)
{
	printf("usage: aimeterctl report spend --month YYYY-MM --by DIM [options]\n"
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
	       "  --format FMT            table (default), csv or json\n" CTL_COMMON_HELP);
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ "month", required_argument, NULL, 'm' },
		{ "by", required_argument, NULL, 'b' },
		{ "reveal", no_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts opts = { 0 };
	const char *month = NULL, *by = NULL, *what;
	enum format f = FORMAT_TABLE;
	bool reveal = false;
	int c;

	if (argc > 1 && rep_report_handles(argv[1])) {
		return rep_report(argc, argv); /* cmd-adoption.c (issue 7) */
	}
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ctl_common_option(&opts, c, optarg)) {
			continue;
		}
		switch (c) {
		case 'm':
			month = optarg;
			break;
		case 'b':
			by = optarg;
			break;
		case 'r':
			reveal = true;
			break;
		case 'f':
			if (parse_format(optarg, &f) < 0) {
				return CTL_USAGE;
			}
			break;
		case 'h':
			report_help();
			return CTL_OK;
		default:
			return CTL_USAGE;
		}
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
		return run_query(&opts,
				 "SELECT model, tool, to_char(first_month, 'YYYY-MM') AS first_month,"
				 " to_char(last_month, 'YYYY-MM') AS last_month, unpriced_events"
				 " FROM reporting.unpriced_models ORDER BY unpriced_events DESC, model",
				 0, NULL, f);
	}
	if (strcmp(what, "rejected") == 0) {
		return run_query(&opts,
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

int
cmd_reattribute(int argc, char **argv)
{
	static const struct option longopts[] = { CTL_COMMON_LONGOPTS,
						  { "identity", required_argument, NULL, 'i' },
						  { NULL, 0, NULL, 0 } };
	struct ctl_opts opts = { 0 };
	const char *identity = NULL;
	uint8_t key[256], mac[32];
	char hex[67];
	const char *params[1] = { hex };
	size_t key_len = 0;
	PGconn *conn;
	PGresult *r;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ctl_common_option(&opts, c, optarg)) {
			continue;
		}
		if (c == 'i') {
			identity = optarg;
			continue;
		}
		if (c == 'h') {
			printf("usage: aimeterctl reattribute --identity ID [options]\n\n"
			       "Resolves the person, team and cost centre of every stored event of\n"
			       "this identity again from the directory as of each event's time\n"
			       "(e.g. after importing a membership for someone who was\n"
			       "unassigned) and moves the rollups with them. Events with no\n"
			       "membership keep their current team.\n\n"
			       "options:\n"
			       "  --identity ID           the identity (email, login) to fix\n" CTL_COMMON_HELP);
			return CTL_OK;
		}
		return CTL_USAGE;
	}
	if (identity == NULL || optind != argc) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl reattribute --identity ID\n");
		return CTL_USAGE;
	}
	if (ctl_person_key(&opts, key, &key_len) < 0 ||
	    identity_hmac(key, key_len, identity, mac) < 0) {
		return CTL_FAIL;
	}
	hex[0] = '\\';
	hex[1] = 'x';
	for (int i = 0; i < 32; i++) {
		snprintf(hex + 2 + 2 * i, 3, "%02x", mac[i]);
	}
	conn = ctl_connect(&opts);
	if (conn == NULL) {
		return CTL_FAIL;
	}
	r = ctl_query(conn, "SELECT aimeter.reattribute($1::bytea)", 1, params);
	if (r == NULL) {
		PQfinish(conn);
		return CTL_FAIL;
	}
	printf("events moved: %s\n", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(conn);
	return CTL_OK;
}
