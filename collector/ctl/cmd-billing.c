/*
 * cmd-billing.c: `aimeterctl billing import-invoice|adjust|map` and
 * `aimeterctl report variance` (docs/reconciliation.md); `billing pull` is
 * in cmd-billing-pull.c. The SQL lives in collector/schema (one object a
 * file): aimeter.billing_adjust, reporting.billing_variance.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "import.h"
#include "options.h"
#include "print.h"

/* Vendors `billing pull` reads: an invoice of theirs would count twice. */
static const char *const pulled_vendors[] = { "anthropic", "openai" };

static const char *const invoice_cols[] = { "vendor", "invoice", "account", "model",
					    "day",    "amount",  "currency", "description" };
enum { COL_VENDOR, COL_INVOICE, COL_ACCOUNT, COL_MODEL, COL_DAY, COL_AMOUNT, COL_CURRENCY,
       COL_DESCRIPTION, COL_MAX };

/* A vendor key as billed_lines names vendors: lower case, digits, . _ - */
static bool
vendor_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0]))) {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '.' &&
		    *s != '_' && *s != '-') {
			return false;
		}
	}
	return true;
}

/* What is wrong with one invoice row, or NULL. */
static const char *
invoice_row_error(const char *const f[COL_MAX])
{
	if (!vendor_ok(f[COL_VENDOR])) {
		return "vendor is lower-case letters, digits, '.', '_' or '-' (at most 63), "
		       "as the variance report names it";
	}
	for (size_t i = 0; i < sizeof(pulled_vendors) / sizeof(pulled_vendors[0]); i++) {
		if (strcmp(f[COL_VENDOR], pulled_vendors[i]) == 0) {
			return "this vendor's bill comes from `aimeterctl billing pull`; "
			       "an invoice of it would count twice";
		}
	}
	if (f[COL_INVOICE][0] == '\0' || strlen(f[COL_INVOICE]) > 128) {
		return "invoice (the invoice number) is empty or longer than 128";
	}
	if (strlen(f[COL_ACCOUNT]) >= BILLING_TEXT_MAX || strlen(f[COL_MODEL]) >= BILLING_TEXT_MAX ||
	    strlen(f[COL_DESCRIPTION]) >= BILLING_TEXT_MAX) {
		return "account, model or description is longer than 255";
	}
	if (!billing_day_ok(f[COL_DAY])) {
		return "day is not a date (YYYY-MM-DD)";
	}
	if (!billing_decimal_ok(f[COL_AMOUNT]) || strlen(f[COL_AMOUNT]) >= BILLING_AMOUNT_MAX) {
		return "amount is not a decimal number (like 1234.56 or -12.5; no currency sign, "
		       "no thousands separator)";
	}
	if (f[COL_CURRENCY][0] != '\0' && strcmp(f[COL_CURRENCY], "USD") != 0) {
		return "currency: only USD bills are reconciled";
	}
	return NULL;
}

static const char invoice_apply[] =
	"WITH inv AS (SELECT vendor, invoice, min(day::date) AS first, max(day::date) AS last,"
	"  count(*) AS n FROM pg_temp.am_invoice GROUP BY 1, 2)"
	", del AS (DELETE FROM aimeter.billed_lines b USING inv"
	"  WHERE b.source = 'invoice' AND b.vendor = inv.vendor AND b.invoice = inv.invoice"
	"  RETURNING 1)"
	", pulls AS (INSERT INTO aimeter.billing_pulls (vendor, source, period_start, period_end,"
	"  invoice, lines) SELECT vendor, 'invoice', first, last + 1, invoice, n FROM inv"
	"  RETURNING pull_id, vendor, invoice)"
	", ins AS (INSERT INTO aimeter.billed_lines (pull_id, vendor, source, kind, account, model,"
	"  day, line_item, amount, currency, invoice)"
	" SELECT p.pull_id, i.vendor, 'invoice', 'cost', i.account, i.model, i.day::date,"
	"  i.description, i.amount::numeric, 'USD', i.invoice"
	" FROM pg_temp.am_invoice i JOIN pulls p ON p.vendor = i.vendor AND p.invoice = i.invoice"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM del),"
	"  (SELECT count(*) FROM inv)";

static int
import_invoice(const struct ctl_opts *opts, const char *path)
{
	struct import im = { 0 };
	struct csv_reader *r = &im.csv;
	int idx[COL_MAX], got, errors = 0, rc = CTL_FAIL;
	char line_s[16];
	PGresult *res = NULL;

	if (import_read(&im, path) < 0 || import_header(&im) < 0) {
		goto out;
	}
	for (size_t i = 0; i < COL_MAX; i++) {
		idx[i] = csv_column(r, invoice_cols[i]);
		if (idx[i] < 0 && (i == COL_VENDOR || i == COL_INVOICE || i == COL_DAY ||
				   i == COL_AMOUNT)) {
			fprintf(stderr,
				"%s:%u: the header needs vendor,invoice,day,amount (optional: "
				"account,model,currency,description); \"%s\" is missing\n",
				path, r->line, invoice_cols[i]);
			goto out;
		}
	}
	/* Connect only for a file that looks right. */
	if (import_connect(&im, opts) < 0 || ctl_exec(im.conn, "BEGIN") < 0 ||
	    ctl_exec(im.conn, "CREATE TEMP TABLE am_invoice (line int, vendor text, invoice text,"
			      " account text, model text, day text, amount text, currency text,"
			      " description text) ON COMMIT DROP") < 0) {
		goto out;
	}
	while ((got = import_next_row(&im)) != 0) {
		const char *f[COL_MAX], *p[COL_MAX + 1], *why;

		if (got < 0) {
			goto out;
		}
		for (size_t i = 0; i < COL_MAX; i++) {
			f[i] = idx[i] >= 0 ? r->fields[idx[i]] : "";
			p[i + 1] = f[i];
		}
		why = invoice_row_error(f);
		if (why != NULL) {
			/* Every bad row is reported, then nothing is imported. */
			fprintf(stderr, "%s:%u: %s\n", path, r->line, why);
			errors++;
			continue;
		}
		snprintf(line_s, sizeof(line_s), "%u", r->line);
		p[0] = line_s;
		if (import_insert_row(&im, "INSERT INTO am_invoice VALUES ($1, $2, $3, $4, $5, $6,"
					   " $7, $8, $9)",
				      COL_MAX + 1, p) < 0) {
			goto out;
		}
	}
	if (errors > 0) {
		fprintf(stderr, "%s: %d bad row%s; nothing imported\n", path, errors,
			errors == 1 ? "" : "s");
		goto out;
	}
	res = ctl_query(im.conn, invoice_apply, 0, NULL);
	if (res == NULL || ctl_exec(im.conn, "COMMIT") < 0) {
		goto out;
	}
	printf("invoice lines: %s imported, %s replaced, %s invoice%s\n", PQgetvalue(res, 0, 0),
	       PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
	       strcmp(PQgetvalue(res, 0, 2), "1") == 0 ? "" : "s");
	rc = CTL_OK;
out:
	PQclear(res);
	import_close(&im);
	return rc;
}

static const char adjust_help[] =
	"usage: aimeterctl billing adjust --vendor V --day DAY --amount USD --reason TEXT\n"
	"                                 [--account A] [--model M] [--team T] [options]\n\n"
	"Books an adjustment: a ledger line (source adjustment) of USD, signed,\n"
	"that trues aimeter's books up to the vendor's bill, with its reason. Its\n"
	"key (vendor, account, model, day) is the variance report's, so the\n"
	"report nets it off. Booked in the day's month, or the first open month\n"
	"after it when that month is closed. Append-only: book a reversing\n"
	"adjustment to undo one.\n\n"
	"options:\n"
	"  --vendor V, --account A, --model M, --day DAY   the variance row\n"
	"  --amount USD            signed decimal, e.g. 12.34 or -0.50\n"
	"  --reason TEXT           why (required; kept with the line)\n"
	"  --team T                the team the line is charged to (default: none)\n" CTL_COMMON_HELP;

static int
adjust(int argc, char **argv)
{
	const char *vendor = NULL, *day = NULL, *amount = NULL, *reason = NULL, *account = "",
		   *model = "", *team = NULL;
	const struct options_entry entries[] = {
		{ "vendor", 0, &vendor, NULL }, { "day", 0, &day, NULL },
		{ "amount", 0, &amount, NULL }, { "reason", 0, &reason, NULL },
		{ "account", 0, &account, NULL }, { "model", 0, &model, NULL },
		{ "team", 0, &team, NULL },	{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { adjust_help, entries, NULL, 2, false };
	struct ctl_opts opts = { 0 };
	const char *p[7];
	PGresult *r;
	PGconn *conn;
	int rc = options_parse(&spec, argc, argv, &opts);
	bool blank = true;

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	for (const char *s = reason; s != NULL && *s != '\0'; s++) {
		blank = blank && isspace((unsigned char)*s);
	}
	if (optind != argc || vendor == NULL || day == NULL || amount == NULL || reason == NULL) {
		fprintf(stderr, "aimeterctl: billing adjust needs --vendor, --day, --amount and "
				"--reason; see --help\n");
		return CTL_USAGE;
	}
	if (!vendor_ok(vendor) || !billing_day_ok(day) || !billing_decimal_ok(amount) ||
	    strlen(amount) >= BILLING_AMOUNT_MAX || blank) {
		fprintf(stderr, "aimeterctl: --vendor is a vendor key (e.g. anthropic), --day a "
				"date, --amount a signed decimal, --reason not empty\n");
		return CTL_USAGE;
	}
	if (strspn(amount, "-0.") == strlen(amount)) {
		fprintf(stderr, "aimeterctl: an adjustment of zero books nothing\n");
		return CTL_USAGE;
	}
	conn = ctl_connect(&opts);
	if (conn == NULL) {
		return CTL_FAIL;
	}
	p[0] = vendor;
	p[1] = account;
	p[2] = model;
	p[3] = day;
	p[4] = amount;
	p[5] = reason;
	p[6] = team;
	r = ctl_query(conn, "SELECT * FROM aimeter.billing_adjust($1, $2, $3, $4, $5, $6, $7)", 7,
		      p);
	if (r != NULL) {
		printf("adjustment %s booked in %.7s: %s USD for %s %s %s %s\n", PQgetvalue(r, 0, 0),
		       PQgetvalue(r, 0, 1), amount, vendor, account[0] ? account : "(no account)",
		       model[0] ? model : "(no model)", day);
	}
	rc = r != NULL ? CTL_OK : CTL_FAIL;
	PQclear(r);
	PQfinish(conn);
	return rc;
}

static const char map_help[] =
	"usage: aimeterctl billing map --vendor V --team T --account A [options]\n"
	"       aimeterctl billing map --vendor V --team T --unmap [options]\n\n"
	"Says which vendor account (Anthropic workspace, OpenAI project, API key)\n"
	"a team's metered usage is billed to, so the variance report compares\n"
	"them per account. Unmapped teams and accounts compare under account \"\".\n\n"
	"options:\n" CTL_COMMON_HELP;

static int
map(int argc, char **argv)
{
	const char *vendor = NULL, *team = NULL, *account = NULL;
	bool unmap = false;
	const struct options_entry entries[] = {
		{ "vendor", 0, &vendor, NULL }, { "team", 0, &team, NULL },
		{ "account", 0, &account, NULL }, { "unmap", 0, NULL, &unmap },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { map_help, entries, NULL, 2, false };
	struct ctl_opts opts = { 0 };
	const char *p[3];
	PGresult *r;
	PGconn *conn;
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind != argc || vendor == NULL || team == NULL || (account == NULL) == !unmap ||
	    !vendor_ok(vendor) || (account != NULL && account[0] == '\0')) {
		fprintf(stderr, "aimeterctl: billing map needs --vendor, --team and --account (or "
				"--unmap); see --help\n");
		return CTL_USAGE;
	}
	conn = ctl_connect(&opts);
	if (conn == NULL) {
		return CTL_FAIL;
	}
	p[0] = vendor;
	p[1] = team;
	p[2] = account;
	r = ctl_query(conn,
		      unmap ? "DELETE FROM aimeter.billing_accounts a USING aimeter.teams t"
			      " WHERE a.vendor = $1 AND a.team_id = t.team_id AND t.name = $2"
			      " RETURNING t.team_id" :
			      "INSERT INTO aimeter.billing_accounts (vendor, team_id, account)"
			      " SELECT $1, t.team_id, $3 FROM aimeter.teams t WHERE t.name = $2"
			      " ON CONFLICT (vendor, team_id) DO UPDATE SET account = EXCLUDED.account"
			      " RETURNING team_id",
		      unmap ? 2 : 3, p);
	rc = CTL_FAIL;
	if (r != NULL && PQntuples(r) == 0) {
		fprintf(stderr, "aimeterctl: %s\n",
			unmap ? "that team has no account of that vendor" : "unknown team");
	} else if (r != NULL) {
		printf(unmap ? "%s: %s unmapped\n" : "%s: %s billed to %s\n", vendor, team,
		       unmap ? "" : account);
		rc = CTL_OK;
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}

static const char billing_help[] =
	"usage: aimeterctl billing pull|import-invoice|adjust|map ...\n\n"
	"  pull --vendor anthropic|openai [--from DAY --to DAY]\n"
	"                       what the vendor's admin APIs say was billed\n"
	"  import-invoice FILE.csv\n"
	"                       billed lines of any other vendor, from its invoice:\n"
	"                       vendor,invoice,day,amount[,account,model,currency,description]\n"
	"  adjust --vendor V --day DAY --amount USD --reason TEXT [...]\n"
	"                       book an adjustment (a ledger line) with its reason\n"
	"  map --vendor V --team T --account A\n"
	"                       the vendor account a team's usage is billed to\n\n"
	"Compare with `aimeterctl report variance`. Each subcommand takes --help;\n"
	"see docs/reconciliation.md.\n";

int
cmd_billing(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(billing_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_USAGE : CTL_OK;
	}
	if (strcmp(argv[1], "pull") == 0) {
		return billing_pull(argc, argv);
	}
	if (strcmp(argv[1], "adjust") == 0) {
		return adjust(argc, argv);
	}
	if (strcmp(argv[1], "map") == 0) {
		return map(argc, argv);
	}
	if (strcmp(argv[1], "import-invoice") == 0) {
		struct ctl_opts opts = { 0 };
		const struct options_spec spec = {
			"usage: aimeterctl billing import-invoice FILE.csv [options]\n\n"
			"Imports billed lines from a vendor invoice. Header (any order):\n"
			"  vendor,invoice,day,amount[,account,model,currency,description]\n"
			"Re-importing an invoice number replaces its lines. Every bad row is\n"
			"reported as FILE:LINE: why, and then nothing is imported.\n\n"
			"options:\n" CTL_COMMON_HELP,
			NULL, NULL, 2, false
		};
		int rc = options_parse(&spec, argc, argv, &opts);

		if (rc != OPTIONS_CONTINUE) {
			return rc;
		}
		if (optind + 1 != argc) {
			fprintf(stderr, "aimeterctl: usage: aimeterctl billing import-invoice FILE.csv\n");
			return CTL_USAGE;
		}
		return import_invoice(&opts, argv[optind]);
	}
	fprintf(stderr, "aimeterctl: unknown billing subcommand \"%s\"; see billing --help\n",
		argv[1]);
	return CTL_USAGE;
}

static const char variance_help[] =
	"usage: aimeterctl report variance [--from DAY --to DAY | --month YYYY-MM]\n"
	"                                 [--vendor V] [--threshold-pct P] [--threshold-usd U]\n"
	"                                 [--flagged] [--format table|csv|json]\n\n"
	"Per vendor, account, model and UTC day: aimeter's estimate against what the\n"
	"vendor billed (billing pull, billing import-invoice), the difference in USD\n"
	"and percent of the estimate, the adjustments booked, what remains, and the\n"
	"tokens on both sides. A row is flagged when what remains is at least U\n"
	"dollars and at least P percent of the estimate. Only days a bill covers\n"
	"are shown. Exit 0 whether or not rows are flagged.\n\n"
	"options:\n"
	"  --from DAY, --to DAY    the days, both included (default: the last 31 days)\n"
	"  --month YYYY-MM         one UTC month instead\n"
	"  --vendor V              one vendor\n"
	"  --threshold-pct P       default 5\n"
	"  --threshold-usd U       default 1.00\n"
	"  --flagged               only flagged rows\n"
	"  --format FMT            table (default), csv or json\n" CTL_COMMON_HELP;

static const char variance_sql[] =
	"SELECT vendor, account, model, day, estimated_usd, billed_usd, difference_usd,"
	" difference_pct, adjusted_usd, residual_usd, estimated_tokens, billed_tokens, flagged"
	" FROM reporting.billing_variance(coalesce($1::date, current_date - 31),"
	"  coalesce($2::date + 1, current_date), $3::numeric, $4::numeric)"
	" WHERE ($5::text IS NULL OR vendor = $5) AND (NOT $6::boolean OR flagged)";

int
cmd_report_variance(int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *month = NULL, *vendor = NULL, *pct = "5",
		   *usd = "1.00";
	bool flagged = false;
	enum print_format f = PRINT_TABLE;
	const struct options_entry entries[] = {
		{ "from", 0, &from, NULL },	      { "to", 0, &to, NULL },
		{ "month", 0, &month, NULL },	      { "vendor", 0, &vendor, NULL },
		{ "threshold-pct", 0, &pct, NULL },   { "threshold-usd", 0, &usd, NULL },
		{ "flagged", 0, NULL, &flagged },     { NULL, 0, NULL, NULL },
	};
	/* argv[1] is "variance": options start after it. */
	const struct options_spec spec = { variance_help, entries, &f, 2, false };
	struct ctl_opts opts = { 0 };
	char first[11], last[11];
	const char *p[6];
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind != argc) {
		fprintf(stderr, "aimeterctl: report variance takes no arguments; see --help\n");
		return CTL_USAGE;
	}
	if ((from == NULL) != (to == NULL) || (month != NULL && from != NULL) ||
	    (from != NULL && (!billing_day_ok(from) || !billing_day_ok(to)))) {
		fprintf(stderr, "aimeterctl: give --from DAY and --to DAY (YYYY-MM-DD), or "
				"--month YYYY-MM\n");
		return CTL_USAGE;
	}
	if (!billing_decimal_ok(pct) || pct[0] == '-' || !billing_decimal_ok(usd) ||
	    usd[0] == '-') {
		fprintf(stderr, "aimeterctl: --threshold-pct and --threshold-usd take a "
				"non-negative number\n");
		return CTL_USAGE;
	}
	if (month != NULL) {
		char y_m[8];
		if (strlen(month) != 7) {
			fprintf(stderr, "aimeterctl: --month takes YYYY-MM\n");
			return CTL_USAGE;
		}
		snprintf(first, sizeof(first), "%s-01", month);
		memcpy(y_m, month, 8);
		if (!billing_day_ok(first)) {
			fprintf(stderr, "aimeterctl: --month takes YYYY-MM\n");
			return CTL_USAGE;
		}
		/* The month's last day: the 28th to 31st that is a date. */
		for (int d = 31; d >= 28; d--) {
			snprintf(last, sizeof(last), "%.7s-%02d", y_m, d);
			if (billing_day_ok(last)) {
				break;
			}
		}
		from = first;
		to = last;
	}
	p[0] = from;
	p[1] = to;
	p[2] = pct;
	p[3] = usd;
	p[4] = vendor;
	p[5] = flagged ? "true" : "false";
	return print_query(&opts, variance_sql, 6, p, f);
}
