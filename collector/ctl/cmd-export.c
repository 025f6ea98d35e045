/*
 * cmd-export.c: `aimeterctl export focus --month YYYY-MM`: the month's rows
 * of reporting.focus_cost_and_usage (billing period = accounting month) as
 * FOCUS CSV on stdout, date-times in ISO 8601 UTC. The export is audited.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "rep.h"

#define TS(col) "to_char(\"" col "\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS \"" col "\""

/* Column order: the mandatory set of the FOCUS spec first, then x_ columns. */
static const char focus_select[] =
	"SELECT \"BilledCost\", \"EffectiveCost\", \"ListCost\", \"ContractedCost\","
	" \"BillingCurrency\", \"BillingAccountId\", \"BillingAccountName\", " TS("BillingPeriodStart") ", "
	TS("BillingPeriodEnd") ", " TS("ChargePeriodStart") ", " TS("ChargePeriodEnd") ","
	" \"ChargeCategory\", \"ChargeClass\", \"ChargeDescription\", \"ChargeFrequency\","
	" \"PricingQuantity\", \"PricingUnit\", \"ServiceName\", \"ServiceCategory\","
	" \"ServiceSubcategory\", \"InvoiceIssuerName\", \"ProviderName\", \"PublisherName\","
	" \"ServiceProviderName\", \"HostProviderName\", \"ConsumedQuantity\", \"ConsumedUnit\","
	" \"ListUnitPrice\", \"ContractedUnitPrice\", \"SkuId\", \"SkuPriceId\", \"SkuMeter\","
	" \"SkuPriceDetails\", \"SubAccountId\", \"SubAccountName\", \"Tags\", \"x_Team\","
	" \"x_CostCenter\", \"x_Tool\", \"x_BillingMode\", \"x_Source\", \"x_ServiceDay\","
	" \"x_LineEvents\", \"x_LineUnpricedEvents\""
	" FROM reporting.focus_cost_and_usage"
	" WHERE \"BillingPeriodStart\" = '%s'::timestamp AT TIME ZONE 'UTC'"
	" ORDER BY \"x_Source\", \"SubAccountId\", \"x_Team\", \"SkuId\", \"ChargePeriodStart\"";

static int
export_focus(const struct ctl_opts *opts, const char *first)
{
	char sql[4096], count_s[32];
	const char *params[2] = { first, count_s };
	PGconn *conn;
	PGresult *r;
	long rows = -1; /* the header */
	char *buf = NULL;
	int n, rc = CTL_OK;

	/* first is "YYYY-MM-01", checked by the caller: safe to inline. */
	snprintf(sql, sizeof(sql), "COPY (");
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), focus_select, first);
	snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql), ") TO STDOUT WITH (FORMAT csv, HEADER)");
	conn = ctl_connect(opts);
	if (conn == NULL) {
		return CTL_FAIL;
	}
	if (ctl_exec(conn, "SET TimeZone = 'UTC'") < 0) {
		PQfinish(conn);
		return CTL_FAIL;
	}
	r = PQexec(conn, sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		fprintf(stderr, "aimeterctl: could not export: %s", PQerrorMessage(conn));
		PQclear(r);
		PQfinish(conn);
		return CTL_FAIL;
	}
	PQclear(r);
	while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
		/* One CSV row per call; quoted fields never hold raw newlines here. */
		fwrite(buf, 1, (size_t)n, stdout);
		rows++;
		PQfreemem(buf);
	}
	if (n == -2) {
		fprintf(stderr, "aimeterctl: export failed: %s", PQerrorMessage(conn));
		rc = CTL_FAIL;
	}
	while ((r = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "aimeterctl: export failed: %s", PQerrorMessage(conn));
			rc = CTL_FAIL;
		}
		PQclear(r);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "aimeterctl: could not write the export\n");
		rc = CTL_FAIL;
	}
	if (rc == CTL_OK) {
		snprintf(count_s, sizeof(count_s), "%ld", rows);
		r = ctl_query(conn,
			      "SELECT reporting.log_export('focus', to_char($1::date, 'YYYY-MM'),"
			      " jsonb_build_object('rows', $2::bigint))",
			      2, params);
		rc = r != NULL ? CTL_OK : CTL_FAIL;
		PQclear(r);
	}
	PQfinish(conn);
	return rc;
}

static const char help[] =
	"usage: aimeterctl export focus --month YYYY-MM [options]\n\n"
	"Writes the FOCUS cost and usage rows billed in the month (usage\n"
	"per token class, corrections, seat amortisation and purchases) as\n"
	"CSV to stdout. See docs/reports-finance.md for the columns.\n\n"
	"options:\n"
	"  --month YYYY-MM         the billing (accounting) month\n" CTL_COMMON_HELP;

int
cmd_export(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *month = NULL;
	const struct options_entry entries[] = {
		{ "month", 0, &month, NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, NULL, 1, false };
	char first[11];
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 1 != argc || strcmp(argv[optind], "focus") != 0) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl export focus --month YYYY-MM\n");
		return CTL_USAGE;
	}
	if (rep_parse_month(month, first) < 0) {
		fprintf(stderr, "aimeterctl: --month YYYY-MM is required\n");
		return CTL_USAGE;
	}
	return export_focus(&opts, first);
}
