/* main.c: aimeterctl command line: dispatch, migrate and check. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "am_config.h"
#include "ctl.h"
#include "migrate.h"
#include "options.h"
#include "rep.h"
#include "replication.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: aimeterctl <command> [options]\n"
		   "\n"
		   "Administers the aimeter database: schema, directory, price book, reports.\n"
		   "\n"
		   "commands:\n"
		   "  migrate                         apply the embedded schema migrations\n"
		   "  ingest FILE|-                   load events (aimeter-agent scan --format jsonl)\n"
		   "  directory import [--create-missing] FILE.csv\n"
		   "                                  import memberships or teams\n"
		   "  prices import FILE.csv          add price book rows\n"
		   "  reprice --from D --to D [--model GLOB]\n"
		   "                                  price events again after price rows change\n"
		   "  rate add|list                   negotiated rates (ContractedCost)\n"
		   "  report spend --month YYYY-MM --by team|cost-center|model|tool|person\n"
		   "  report unpriced | rejected      models without a price; rejected events\n"
		   "  reattribute --identity ID       re-resolve an identity's events\n"
		   "  check                           health checks (default partition)\n"
		   "  report adoption|stalled|seats|seat-cost|budget|booked ...\n"
		   "  report actions [--month YYYY-MM] [--by outcome|kind|inventory]\n"
		   "  report sources [--month YYYY-MM] usage per source: agent, otel, both\n"
		   "                                  finance and adoption reports\n"
		   "  seats import FILE.csv           seat subscriptions or assignments\n"
		   "  budget set|alerts               budgets and their threshold alerts\n"
		   "  fx import FILE.csv | fx list    exchange rates for budgets\n"
		   "  initiative add|list|status      stage-gate initiatives\n"
		   "  month close|reopen|status       month-end close\n"
		   "  export focus --month YYYY-MM    FOCUS cost and usage CSV\n"
		   "  person export|forget IDENTITY   GDPR access and erasure\n"
		   "  retention apply                 drop and fold old data\n"
		   "  init --server-name NAME         set up this server: database, keys, TLS\n"
		   "  enroll-token create|list|revoke enrollment secrets for agents\n"
		   "  otlp-token create|list|revoke   bearer tokens for OTLP senders\n"
		   "  billing pull|import-invoice|adjust|map\n"
		   "                                  what vendors billed; adjustments\n"
		   "  report variance [--month YYYY-MM] estimated vs billed per vendor and day\n"
		   "\n"
		   "Every command takes --help, --db CONNINFO (default: libpq's PG* variables).\n"
		   "Exit status: 0 input processed (even with rejects), 1 nothing applied or\n"
		   "failure, 2 usage error.\n"
		   "\n"
		   "options:\n"
		   "  -h, --help     show this help\n"
		   "  -V, --version  show the version\n");
}

static const char migrate_help[] =
	"usage: aimeterctl migrate [--to VERSION] [options]\n\n"
	"Applies the schema migrations built into this binary that the\n"
	"database lacks, in order, then the functions, triggers and views\n"
	"whose text changed; safe to run on every deploy and from\n"
	"several hosts at once (an advisory lock serialises runs).\n"
	"Run it as a superuser: it creates the role aimeter_owner (NOLOGIN,\n"
	"not a superuser) that owns every object, so the SECURITY DEFINER\n"
	"functions run as that role, never as a superuser.\n\n"
	"options:\n"
	"  --to VERSION   stop after that migration; functions, triggers and\n"
	"                 views are applied only at the latest version\n" CTL_COMMON_HELP;

int
cmd_migrate(int argc, char **argv)
{
	const char *to_arg = NULL;
	const struct options_entry entries[] = { { "to", 0, &to_arg, NULL }, { NULL, 0, NULL, NULL } };
	const struct options_spec spec = { migrate_help, entries, NULL, 1, false };
	struct ctl_opts opts = { 0 };
	char err[1024], *end = NULL;
	int applied = 0, objects = 0, rc = options_parse(&spec, argc, argv, &opts);
	long to = 0;
	PGconn *conn;

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind != argc) {
		fprintf(stderr, "aimeterctl: migrate takes no arguments; see --help\n");
		return CTL_USAGE;
	}
	if (to_arg != NULL) {
		to = strtol(to_arg, &end, 10);
		if (end == to_arg || *end != '\0' || to < 1 || to > migrate_latest()) {
			fprintf(stderr, "aimeterctl: --to takes a version from 1 to %d\n",
				migrate_latest());
			return CTL_USAGE;
		}
	}
	conn = ctl_connect(&opts);
	if (conn == NULL) {
		return CTL_FAIL;
	}
	rc = migrate_to(conn, (int)to, &applied, &objects, err, sizeof(err));
	PQfinish(conn);
	if (rc < 0) {
		fprintf(stderr, "aimeterctl: %s", err);
		if (err[0] != '\0' && err[strlen(err) - 1] != '\n') {
			fputc('\n', stderr);
		}
		return CTL_FAIL;
	}
	printf("schema at version %d (%d migration%s applied), %d schema object%s applied\n",
	       to > 0 ? (int)to : migrate_latest(), applied, applied == 1 ? "" : "s", objects,
	       objects == 1 ? "" : "s");
	return CTL_OK;
}

static const char check_help[] =
	"usage: aimeterctl check [options]\n\n"
	"Reports rows in the default partition of usage_events (there\n"
	"should be none: partitions are made on demand) and SECURITY DEFINER\n"
	"functions owned by a superuser or without a fixed search_path.\n"
	"Exit 1 if any. Also prints streaming replication, if any: each\n"
	"standby's state and replay lag (on a primary), or this standby's lag.\n\n"
	"options:\n" CTL_COMMON_HELP;

int
cmd_check(int argc, char **argv)
{
	const struct options_spec spec = { check_help, NULL, NULL, 1, false };
	struct ctl_opts opts = { 0 };
	char err[1024] = "";
	PGresult *r;
	PGconn *conn;
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	rc = CTL_OK;
	conn = ctl_connect(&opts);
	if (conn == NULL) {
		return CTL_FAIL;
	}
	r = ctl_query(conn, "SELECT aimeter.default_partition_rows()", 0, NULL);
	if (r == NULL) {
		rc = CTL_FAIL;
	} else if (strcmp(PQgetvalue(r, 0, 0), "0") != 0) {
		printf("default partition: %s rows (expected none)\n", PQgetvalue(r, 0, 0));
		rc = CTL_FAIL;
	} else {
		printf("default partition: empty\n");
	}
	PQclear(r);
	if (migrate_check_definers(conn, stdout, err, sizeof(err)) != 0) {
		if (err[0] != '\0') {
			fprintf(stderr, "aimeterctl: %s", err);
		}
		rc = CTL_FAIL;
	}
	if (replication_check(conn, stdout) < 0) {
		rc = CTL_FAIL;
	}
	PQfinish(conn);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "migrate", cmd_migrate },	    { "ingest", cmd_ingest },
		{ "directory", cmd_directory },	    { "prices", cmd_prices },
		{ "report", cmd_report },	    { "reattribute", cmd_reattribute },
		{ "check", cmd_check },		    { "device", cmd_device },
		{ "seats", cmd_seats },		    { "budget", cmd_budget },		/* issue 7 */
		{ "initiative", cmd_initiative },   { "month", cmd_month },
		{ "export", cmd_export },	    { "person", cmd_person },
		{ "retention", cmd_retention },	    { "fx", cmd_fx }, /* issue 16 */
		{ "init", cmd_init },		    { "enroll-token", cmd_enroll_token }, /* issue 8 */
		{ "otlp-token", cmd_otlp_token }, /* issue 15 */
		{ "billing", cmd_billing },	  /* issue 16 */
		{ "reprice", cmd_reprice },	    { "rate", cmd_rate }, /* issue 16 */
	};

	if (argc < 2) {
		usage(stderr);
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return CTL_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("aimeterctl %s\n", AM_VERSION);
		return CTL_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "aimeterctl: unknown command \"%s\"; see --help\n", argv[1]);
	return CTL_USAGE;
}
