/*
 * cmd-export.c: `aimeterctl export focus --month YYYY-MM`: the month's rows
 * of reporting.focus_cost_and_usage (billing period = accounting month) as
 * FOCUS CSV on stdout, date-times in ISO 8601 UTC. The export audits itself.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

#define TS(col) "to_char(\"" col "\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS \"" col "\""

/*
 * Column order: the mandatory set of the FOCUS spec first, then x_ columns.
 * reporting.export_focus orders the rows and writes the audit entry itself
 * (migration 0107), so a reader cannot export without one nor write others.
 */
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
	" FROM reporting.export_focus($1::date)";

/*
 * Rows arrive one at a time (single-row mode), so a large month never sits
 * whole in memory here; they print through the CSV printer every report
 * uses, which neutralises formula-like text cells.
 */
static int
export_focus(const struct ctl_opts *opts, const char *first)
{
	const char *params[1] = { first };
	bool header = false;
	PGconn *conn;
	PGresult *r;
	int rc = CTL_OK;

	conn = ctl_connect(opts);
	if (conn == NULL) {
		return CTL_FAIL;
	}
	if (ctl_exec(conn, "SET TimeZone = 'UTC'") < 0) {
		PQfinish(conn);
		return CTL_FAIL;
	}
	if (!PQsendQueryParams(conn, focus_select, 1, NULL, params, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn)) {
		fprintf(stderr, "aimeterctl: could not export: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return CTL_FAIL;
	}
	while ((r = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
			/* The last, empty result still names the columns of an empty month. */
			if (!header && rc == CTL_OK) {
				print_csv_header(r);
				header = true;
			}
			for (int i = 0; i < PQntuples(r) && rc == CTL_OK; i++) {
				print_csv_row(r, i);
			}
		} else {
			fprintf(stderr, "aimeterctl: export failed: %s", PQresultErrorMessage(r));
			rc = CTL_FAIL;
		}
		PQclear(r);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "aimeterctl: could not write the export\n");
		rc = CTL_FAIL;
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
