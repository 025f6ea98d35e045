/*
 * cmd-seats.c: `aimeterctl seats import FILE.csv`.
 *
 * Two kinds of file, told apart by their header:
 *   subscription,vendor,plan,tool,seats,price_per_seat,currency,term_start,term_end,cost_center[,invoice_ref]
 *     subscriptions: price_per_seat is one seat for the whole term
 *     [term_start, term_end); tool (empty: any) says whose activity counts as
 *     use; cost_center (empty: unassigned) carries the unassigned pool. A
 *     subscription of the same name is replaced.
 *   subscription,identity,valid_from,valid_to
 *     seat assignments; the file replaces the assignments of every
 *     subscription it names. Identities must be in the directory.
 * One transaction: any bad row and nothing is applied, with file:line errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "import.h"
#include "options.h"
#include "rep.h"

static const char *const sub_cols[] = { "subscription", "vendor", "plan", "tool",
					"seats", "price_per_seat", "currency", "term_start",
					"term_end", "cost_center", "invoice_ref" };
static const char *const asg_cols[] = { "subscription", "identity", "valid_from", "valid_to" };

/* Errors found in SQL: (line, message) rows. */
static bool
print_errors(PGresult *r, const char *path)
{
	int n = r != NULL ? PQntuples(r) : 0;

	for (int i = 0; i < n; i++) {
		fprintf(stderr, "%s:%s: %s\n", path, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	}
	return n > 0;
}

static const char sub_check[] =
	"SELECT line, msg FROM ("
	" SELECT line, CASE"
	"  WHEN coalesce(name, '') = '' THEN 'subscription is empty'"
	"  WHEN coalesce(vendor, '') = '' OR coalesce(plan, '') = '' THEN 'vendor and plan are required'"
	"  WHEN tool <> '' AND NOT EXISTS (SELECT 1 FROM aimeter.tools t WHERE t.tool = s.tool)"
	"   THEN 'unknown tool \"' || tool || '\"'"
	"  WHEN seats !~ '^[0-9]{1,9}$' THEN 'seats is a whole number'"
	"  WHEN price_per_seat !~ '^[0-9]+(\\.[0-9]+)?$' THEN 'price_per_seat is a number'"
	"  WHEN coalesce(currency, '') <> '' AND currency !~ '^[A-Z]{3}$'"
	"   THEN 'currency is an ISO 4217 code'"
	"  WHEN term_start !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' OR term_end !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"
	"   THEN 'term_start and term_end are YYYY-MM-DD'"
	"  WHEN NOT pg_temp.am_valid_date(term_start) OR NOT pg_temp.am_valid_date(term_end)"
	"   THEN 'term_start or term_end is not a date'"
	"  WHEN term_end::date <= term_start::date THEN 'term_end is not after term_start'"
	"  WHEN coalesce(cost_center, '') <> '' AND NOT EXISTS"
	"   (SELECT 1 FROM aimeter.cost_centers c WHERE c.code = s.cost_center)"
	"   THEN 'unknown cost centre \"' || cost_center || '\"'"
	"  WHEN count(*) OVER (PARTITION BY name) > 1 THEN 'subscription named twice'"
	" END AS msg FROM pg_temp.am_seats s) x WHERE msg IS NOT NULL ORDER BY line";

static const char sub_apply[] =
	"WITH up AS ("
	" UPDATE aimeter.subscriptions x SET vendor = s.vendor, plan = s.plan,"
	"  tool = nullif(s.tool, ''), seats = s.seats::int, price_per_seat = s.price_per_seat::numeric,"
	"  currency = coalesce(nullif(s.currency, ''), 'USD'), term_start = s.term_start::date,"
	"  term_end = s.term_end::date,"
	"  cost_center_id = coalesce((SELECT c.cost_center_id FROM aimeter.cost_centers c"
	"   WHERE c.code = s.cost_center), 0), invoice_ref = nullif(s.invoice_ref, '')"
	" FROM pg_temp.am_seats s WHERE x.name = s.name RETURNING x.name)"
	", ins AS (INSERT INTO aimeter.subscriptions (name, vendor, plan, tool, seats, price_per_seat,"
	"  currency, term_start, term_end, cost_center_id, invoice_ref)"
	" SELECT s.name, s.vendor, s.plan, nullif(s.tool, ''), s.seats::int, s.price_per_seat::numeric,"
	"  coalesce(nullif(s.currency, ''), 'USD'), s.term_start::date, s.term_end::date,"
	"  coalesce((SELECT c.cost_center_id FROM aimeter.cost_centers c WHERE c.code = s.cost_center), 0),"
	"  nullif(s.invoice_ref, '')"
	" FROM pg_temp.am_seats s WHERE s.name NOT IN (SELECT name FROM up) RETURNING 1)"
	" SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM up)";

static const char asg_check[] =
	"SELECT line, msg FROM ("
	" SELECT line, CASE"
	"  WHEN NOT EXISTS (SELECT 1 FROM aimeter.subscriptions x WHERE x.name = s.name)"
	"   THEN 'unknown subscription \"' || coalesce(s.name, '') || '\"'"
	"  WHEN NOT EXISTS (SELECT 1 FROM aimeter.identities i WHERE i.identity = s.identity)"
	"   THEN 'identity \"' || coalesce(s.identity, '') || '\" is not in the directory'"
	"  WHEN valid_from !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"
	"   OR (coalesce(valid_to, '') <> '' AND valid_to !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')"
	"   OR NOT pg_temp.am_valid_date(valid_from)"
	"   OR (coalesce(valid_to, '') <> '' AND NOT pg_temp.am_valid_date(valid_to))"
	"   THEN 'valid_from is YYYY-MM-DD, valid_to YYYY-MM-DD or empty'"
	"  WHEN coalesce(valid_to, '') <> '' AND valid_to::date <= valid_from::date"
	"   THEN 'valid_to is not after valid_from'"
	" END AS msg FROM pg_temp.am_seats s) x WHERE msg IS NOT NULL ORDER BY line";

static const char asg_apply[] =
	"WITH del AS (DELETE FROM aimeter.seat_assignments a USING aimeter.subscriptions x"
	"  WHERE x.subscription_id = a.subscription_id"
	"  AND x.name IN (SELECT name FROM pg_temp.am_seats) RETURNING 1)"
	", ins AS (INSERT INTO aimeter.seat_assignments (subscription_id, person_id, valid_from, valid_to)"
	" SELECT x.subscription_id, i.person_id, s.valid_from::date, nullif(s.valid_to, '')::date"
	" FROM pg_temp.am_seats s JOIN aimeter.subscriptions x ON x.name = s.name"
	" JOIN aimeter.identities i ON i.identity = s.identity RETURNING 1)"
	" SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM del)";

static int
import(const struct ctl_opts *opts, const char *path)
{
	struct import im;
	struct csv_reader *r = &im.csv;
	char err[256], line_s[16], norm[1024];
	size_t ncols;
	int idx[11], got, rc = CTL_FAIL;
	bool subs;
	PGresult *res = NULL;

	if (import_read(&im, path) < 0) {
		goto out;
	}
	got = csv_next(r, err, sizeof(err));
	if (got <= 0) {
		fprintf(stderr, "%s:%u: %s\n", path, r->line, got < 0 ? err : "empty file");
		goto out;
	}
	subs = csv_column(r, "vendor") >= 0;
	ncols = subs ? 11 : 4;
	for (size_t i = 0; i < ncols; i++) {
		idx[i] = csv_column(r, subs ? sub_cols[i] : asg_cols[i]);
		/* invoice_ref is optional */
		if (idx[i] < 0 && !(subs && i == 10)) {
			fprintf(stderr,
				"%s:%u: the header is %s\n", path, r->line,
				subs ? "subscription,vendor,plan,tool,seats,price_per_seat,currency,"
				       "term_start,term_end,cost_center[,invoice_ref]" :
				       "subscription,identity,valid_from,valid_to");
			goto out;
		}
	}
	/* Connect only for a file that looks right. */
	if (import_connect(&im, opts) < 0) {
		goto out;
	}
	if (ctl_exec(im.conn, "BEGIN") < 0 ||
	    ctl_exec(im.conn, subs ? "CREATE TEMP TABLE am_seats (line int, name text, vendor text,"
				     " plan text, tool text, seats text, price_per_seat text,"
				     " currency text, term_start text, term_end text,"
				     " cost_center text, invoice_ref text) ON COMMIT DROP" :
				     "CREATE TEMP TABLE am_seats (line int, name text, identity text,"
				     " valid_from text, valid_to text) ON COMMIT DROP") < 0 ||
	    ctl_exec(im.conn, "CREATE FUNCTION pg_temp.am_valid_date(s text) RETURNS boolean"
			      " LANGUAGE plpgsql AS $$ BEGIN PERFORM s::date; RETURN true;"
			      " EXCEPTION WHEN others THEN RETURN false; END $$") < 0) {
		goto out;
	}
	/* Rows may be short (no header width from import_header): missing fields are "". */
	while ((got = import_next_row(&im)) != 0) {
		const char *p[12];

		if (got < 0) {
			goto out;
		}
		snprintf(line_s, sizeof(line_s), "%u", r->line);
		p[0] = line_s;
		for (size_t i = 0; i < ncols; i++) {
			p[i + 1] = idx[i] >= 0 && (size_t)idx[i] < r->n_fields ? r->fields[idx[i]] : "";
		}
		if (!subs) {
			if (identity_normalize(p[2], norm, sizeof(norm)) <= 0) {
				fprintf(stderr, "%s:%u: identity is empty or too long\n", path, r->line);
				goto out;
			}
			p[2] = norm;
		}
		res = ctl_query(im.conn,
				subs ? "INSERT INTO am_seats VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
				       " $9, $10, $11, $12)" :
				       "INSERT INTO am_seats VALUES ($1, $2, $3, $4, $5)",
				(int)ncols + 1, p);
		if (res == NULL) {
			goto out;
		}
		PQclear(res);
		res = NULL;
	}
	res = ctl_query(im.conn, subs ? sub_check : asg_check, 0, NULL);
	if (res == NULL || print_errors(res, path)) {
		if (res != NULL) {
			fprintf(stderr, "aimeterctl: nothing imported\n");
		}
		goto out;
	}
	PQclear(res);
	res = ctl_query(im.conn, subs ? sub_apply : asg_apply, 0, NULL);
	if (res == NULL || ctl_exec(im.conn, "COMMIT") < 0) {
		goto out;
	}
	if (subs) {
		printf("subscriptions: %s added, %s replaced\n", PQgetvalue(res, 0, 0),
		       PQgetvalue(res, 0, 1));
	} else {
		printf("seat assignments: %s imported, %s replaced\n", PQgetvalue(res, 0, 0),
		       PQgetvalue(res, 0, 1));
	}
	rc = CTL_OK;
out:
	PQclear(res);
	import_close(&im);
	return rc;
}

static const char help[] =
	"usage: aimeterctl seats import FILE.csv [options]\n\n"
	"Imports seat subscriptions or seat assignments (told apart by the\n"
	"header; see docs/reports-finance.md). One transaction: a bad row\n"
	"and nothing is applied. Utilisation and cost: `aimeterctl report\n"
	"seats` and `report seat-cost`.\n\n"
	"options:\n" CTL_COMMON_HELP;

int
cmd_seats(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const struct options_spec spec = { help, NULL, NULL, 1, false };
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 2 != argc || strcmp(argv[optind], "import") != 0) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl seats import FILE.csv\n");
		return CTL_USAGE;
	}
	return import(&opts, argv[optind + 1]);
}
