/*
 * directory.c: `aimeterctl directory import [--create-missing] FILE.csv`.
 *
 * Two kinds of file, told apart by their header:
 *   identity,team,cost_center,valid_from,valid_to[,person]
 *     memberships, one row per period [valid_from, valid_to); cost_center,
 *     when given, overrides the team's mapping. Rows with the same `person`
 *     (default: the identity itself) are identities of one person. The file
 *     replaces the memberships of every person it names.
 *   team,parent,cost_center,valid_from,valid_to
 *     teams, their parents and their effective-dated cost-centre mapping;
 *     it replaces the mapping of every team it names.
 * One transaction: a malformed row, an unknown team (without
 * --create-missing) or overlapping periods and nothing is applied.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"
#include "import.h"
#include "options.h"
#include "rep.h"

static int
check_period(const char *path, unsigned line, const char *from, const char *to)
{
	if ((from[0] != '\0' && !rep_is_date(from)) || (to[0] != '\0' && !rep_is_date(to))) {
		fprintf(stderr, "%s:%u: valid_from and valid_to are YYYY-MM-DD or empty\n", path,
			line);
		return -1;
	}
	if (from[0] != '\0' && to[0] != '\0' && strcmp(to, from) <= 0) {
		fprintf(stderr, "%s:%u: valid_to is not after valid_from\n", path, line);
		return -1;
	}
	return 0;
}

/*
 * refuse(conn, path, sql, what): run a check whose rows (line, name[,
 * detail]) are errors; print each as "path:line: what "name" detail".
 * True if there were any, or the check failed.
 */
static bool
refuse(PGconn *conn, const char *path, const char *sql, const char *what)
{
	PGresult *r = ctl_query(conn, sql, 0, NULL);
	int n = r != NULL ? PQntuples(r) : 0;

	for (int i = 0; i < n; i++) {
		fprintf(stderr, "%s:%s: %s \"%s\"%s%s\n", path, PQgetvalue(r, i, 0), what,
			PQgetvalue(r, i, 1), PQnfields(r) > 2 ? " " : "",
			PQnfields(r) > 2 ? PQgetvalue(r, i, 2) : "");
	}
	bool bad = r == NULL || n > 0;

	PQclear(r);
	return bad;
}

/* "" for an empty field: SQL NULL, so the column's default or open end applies. */
static const char *
or_null(const char *field)
{
	return field[0] != '\0' ? field : NULL;
}

static int
stage_memberships(struct import *im, const uint8_t *key, size_t key_len)
{
	struct csv_reader *r = &im->csv;
	int ci = csv_column(r, "identity"), ct = csv_column(r, "team"),
	    cc = csv_column(r, "cost_center"), cf = csv_column(r, "valid_from"),
	    cto = csv_column(r, "valid_to"), cp = csv_column(r, "person");
	char line_s[16], ih[67], pk[67], norm_id[1024], norm_p[1024];
	uint8_t mac[AM_IDENTITY_HMAC_LEN];
	int got;

	if (ct < 0 || cc < 0 || cf < 0 || cto < 0) {
		fprintf(stderr, "%s:%u: the header is identity,team,cost_center,valid_from,valid_to\n",
			im->path, r->line);
		return -1;
	}
	if (ctl_exec(im->conn, "CREATE TEMP TABLE am_dir (line int, identity text,"
			       " identity_hmac bytea, person text, person_key bytea, team text,"
			       " cost_center text, valid_from date, valid_to date) ON COMMIT DROP") < 0) {
		return -1;
	}
	while ((got = import_next_row(im)) != 0) {
		const char *id, *person;

		if (got < 0) {
			return -1;
		}
		id = r->fields[ci];
		person = cp >= 0 && r->fields[cp][0] != '\0' ? r->fields[cp] : id;
		if (identity_normalize(id, norm_id, sizeof(norm_id)) <= 0 ||
		    identity_normalize(person, norm_p, sizeof(norm_p)) <= 0) {
			fprintf(stderr, "%s:%u: identity is empty or too long\n", im->path, r->line);
			return -1;
		}
		if (r->fields[ct][0] == '\0') {
			fprintf(stderr, "%s:%u: team is empty\n", im->path, r->line);
			return -1;
		}
		if (check_period(im->path, r->line, r->fields[cf], r->fields[cto]) < 0) {
			return -1;
		}
		snprintf(line_s, sizeof(line_s), "%u", r->line);
		if (identity_hmac(key, key_len, norm_id, mac) < 0) {
			return -1;
		}
		rep_hmac_hex(mac, ih);
		if (identity_hmac(key, key_len, norm_p, mac) < 0) {
			return -1;
		}
		rep_hmac_hex(mac, pk);
		{
			const char *p[9] = { line_s,
					     norm_id,
					     ih,
					     norm_p,
					     pk,
					     r->fields[ct],
					     or_null(r->fields[cc]),
					     or_null(r->fields[cf]),
					     or_null(r->fields[cto]) };

			if (import_insert_row(im,
					      "INSERT INTO am_dir VALUES ($1, $2, $3, $4, $5, $6, $7, "
					      "coalesce($8::date, '-infinity'), $9)",
					      9, p) < 0) {
				return -1;
			}
		}
	}
	return 0;
}

static int
apply_memberships(PGconn *conn, const char *path, bool create_missing)
{
	/* One identity, one person. */
	if (refuse(conn, path,
		   "SELECT min(a.line)::text, a.identity, 'belongs to two people in this file'"
		   "  FROM am_dir a GROUP BY a.identity HAVING count(DISTINCT a.person) > 1",
		   "identity") ||
	    refuse(conn, path,
		   "SELECT b.line::text, b.person, 'has periods that overlap line ' || a.line"
		   "  FROM am_dir a JOIN am_dir b ON a.person = b.person AND a.line < b.line"
		   " WHERE daterange(a.valid_from, a.valid_to) && daterange(b.valid_from, b.valid_to)"
		   "   AND (a.team, a.cost_center, a.valid_from, a.valid_to) IS DISTINCT FROM"
		   "       (b.team, b.cost_center, b.valid_from, b.valid_to)"
		   " ORDER BY b.line",
		   "person")) {
		return -1;
	}
	if (!create_missing &&
	    (refuse(conn, path,
		    "SELECT min(d.line)::text, d.team, '(use --create-missing to create it)'"
		    "  FROM am_dir d WHERE NOT EXISTS (SELECT 1 FROM aimeter.teams t"
		    "  WHERE t.name = d.team) GROUP BY d.team ORDER BY 1",
		    "unknown team") ||
	     refuse(conn, path,
		    "SELECT min(d.line)::text, d.cost_center,"
		    " '(use --create-missing to create it)'"
		    "  FROM am_dir d WHERE d.cost_center IS NOT NULL AND NOT EXISTS"
		    "  (SELECT 1 FROM aimeter.cost_centers c WHERE c.code = d.cost_center)"
		    " GROUP BY d.cost_center ORDER BY 1",
		    "unknown cost centre"))) {
		return -1;
	}
	return ctl_exec(
		conn,
		"INSERT INTO aimeter.teams (name) SELECT DISTINCT team FROM am_dir"
		" ON CONFLICT (name) DO NOTHING;"
		"INSERT INTO aimeter.cost_centers (code) SELECT DISTINCT cost_center FROM am_dir"
		" WHERE cost_center IS NOT NULL ON CONFLICT (code) DO NOTHING;"
		"INSERT INTO aimeter.people (person_key, label)"
		" SELECT DISTINCT person_key, person FROM am_dir ON CONFLICT (person_key) DO NOTHING;"
		"INSERT INTO aimeter.identities (identity_hmac, identity, person_id)"
		" SELECT DISTINCT d.identity_hmac, d.identity, p.person_id FROM am_dir d"
		" JOIN aimeter.people p ON p.person_key = d.person_key"
		" ON CONFLICT (identity_hmac) DO UPDATE SET person_id = excluded.person_id;"
		"DELETE FROM aimeter.memberships m USING aimeter.people p"
		" WHERE p.person_id = m.person_id AND p.person_key IN (SELECT person_key FROM am_dir);"
		"INSERT INTO aimeter.memberships (person_id, team_id, cost_center_id, valid_from,"
		" valid_to)"
		" SELECT DISTINCT p.person_id, t.team_id, c.cost_center_id, d.valid_from, d.valid_to"
		"  FROM am_dir d JOIN aimeter.people p ON p.person_key = d.person_key"
		"  JOIN aimeter.teams t ON t.name = d.team"
		"  LEFT JOIN aimeter.cost_centers c ON c.code = d.cost_center");
}

static int
stage_teams(struct import *im)
{
	struct csv_reader *r = &im->csv;
	int ct = csv_column(r, "team"), cpa = csv_column(r, "parent"),
	    cc = csv_column(r, "cost_center"), cf = csv_column(r, "valid_from"),
	    cto = csv_column(r, "valid_to");
	char line_s[16];
	int got;

	if (cpa < 0 || cc < 0 || cf < 0 || cto < 0) {
		fprintf(stderr, "%s:%u: the header is team,parent,cost_center,valid_from,valid_to\n",
			im->path, r->line);
		return -1;
	}
	if (ctl_exec(im->conn, "CREATE TEMP TABLE am_dir (line int, team text, parent text,"
			       " cost_center text, valid_from date, valid_to date) ON COMMIT DROP") < 0) {
		return -1;
	}
	while ((got = import_next_row(im)) != 0) {
		if (got < 0) {
			return -1;
		}
		if (r->fields[ct][0] == '\0' || strcmp(r->fields[ct], "unassigned") == 0) {
			fprintf(stderr, "%s:%u: team is empty or reserved\n", im->path, r->line);
			return -1;
		}
		if (check_period(im->path, r->line, r->fields[cf], r->fields[cto]) < 0) {
			return -1;
		}
		snprintf(line_s, sizeof(line_s), "%u", r->line);
		{
			const char *p[6] = { line_s,
					     r->fields[ct],
					     or_null(r->fields[cpa]),
					     or_null(r->fields[cc]),
					     or_null(r->fields[cf]),
					     or_null(r->fields[cto]) };

			if (import_insert_row(im,
					      "INSERT INTO am_dir VALUES ($1, $2, $3, $4, "
					      "coalesce($5::date, '-infinity'), $6)",
					      6, p) < 0) {
				return -1;
			}
		}
	}
	return 0;
}

static int
apply_teams(PGconn *conn, const char *path, bool create_missing)
{
	if (refuse(conn, path,
		   "SELECT b.line::text, b.team, 'has periods that overlap line ' || a.line"
		   "  FROM am_dir a JOIN am_dir b ON a.team = b.team AND a.line < b.line"
		   " WHERE daterange(a.valid_from, a.valid_to) && daterange(b.valid_from, b.valid_to)"
		   "   AND a.cost_center IS NOT NULL AND b.cost_center IS NOT NULL"
		   " ORDER BY b.line",
		   "team") ||
	    refuse(conn, path,
		   "SELECT min(line)::text, team, 'has two parents in this file' FROM am_dir"
		   " GROUP BY team HAVING count(DISTINCT coalesce(parent, '')) > 1",
		   "team")) {
		return -1;
	}
	if (!create_missing &&
	    refuse(conn, path,
		   "SELECT min(d.line)::text, d.parent, '(use --create-missing to create it)'"
		   "  FROM am_dir d WHERE d.parent IS NOT NULL"
		   "   AND NOT EXISTS (SELECT 1 FROM aimeter.teams t WHERE t.name = d.parent)"
		   "   AND NOT EXISTS (SELECT 1 FROM am_dir e WHERE e.team = d.parent)"
		   " GROUP BY d.parent ORDER BY 1",
		   "unknown parent team")) {
		return -1;
	}
	/* A teams file defines its teams and cost centres. */
	return ctl_exec(
		conn,
		"INSERT INTO aimeter.teams (name) SELECT team FROM am_dir UNION"
		" SELECT parent FROM am_dir WHERE parent IS NOT NULL ON CONFLICT (name) DO NOTHING;"
		"INSERT INTO aimeter.cost_centers (code) SELECT DISTINCT cost_center FROM am_dir"
		" WHERE cost_center IS NOT NULL ON CONFLICT (code) DO NOTHING;"
		"UPDATE aimeter.teams t SET parent_team_id = p.team_id"
		"  FROM (SELECT DISTINCT team, parent FROM am_dir) d"
		"  LEFT JOIN aimeter.teams p ON p.name = d.parent"
		" WHERE t.name = d.team AND t.parent_team_id IS DISTINCT FROM p.team_id;"
		"DELETE FROM aimeter.team_cost_centers m USING aimeter.teams t"
		" WHERE t.team_id = m.team_id AND t.name IN (SELECT team FROM am_dir);"
		"INSERT INTO aimeter.team_cost_centers (team_id, cost_center_id, valid_from, valid_to)"
		" SELECT DISTINCT t.team_id, c.cost_center_id, d.valid_from, d.valid_to"
		"  FROM am_dir d JOIN aimeter.teams t ON t.name = d.team"
		"  JOIN aimeter.cost_centers c ON c.code = d.cost_center");
}

static int
import_directory(struct import *im, const struct ctl_opts *opts, bool create_missing)
{
	struct csv_reader *r = &im->csv;
	uint8_t key[256];
	size_t key_len = 0;
	bool teams;

	if (import_header(im) < 0) {
		return -1;
	}
	teams = csv_column(r, "identity") < 0 && csv_column(r, "team") >= 0 &&
		csv_column(r, "parent") >= 0;
	if (!teams && csv_column(r, "identity") < 0) {
		fprintf(stderr, "%s:%u: the header is identity,team,cost_center,valid_from,valid_to "
				"or team,parent,cost_center,valid_from,valid_to\n",
			im->path, r->line);
		return -1;
	}
	if (!teams && ctl_person_key(opts, key, &key_len) < 0) {
		return -1;
	}
	if (ctl_exec(im->conn, "BEGIN") < 0) {
		return -1;
	}
	if (teams ? stage_teams(im) < 0 || apply_teams(im->conn, im->path, create_missing) < 0 :
		    stage_memberships(im, key, key_len) < 0 ||
			    apply_memberships(im->conn, im->path, create_missing) < 0) {
		import_abort(im);
		return -1;
	}
	if (ctl_exec(im->conn, "COMMIT") < 0) {
		return -1;
	}
	printf("%s: %s imported\n", im->path, teams ? "teams" : "memberships");
	return 0;
}

static const char help[] =
	"usage: aimeterctl directory import [options] FILE.csv\n\n"
	"Memberships: header identity,team,cost_center,valid_from,valid_to\n"
	"(optional column person groups several identities into one\n"
	"person); one row per period [valid_from, valid_to), dates UTC,\n"
	"empty valid_to = open, cost_center overrides the team's. The file\n"
	"replaces the memberships of each person it names; overlapping\n"
	"periods are refused. Needs the person key.\n"
	"Teams: header team,parent,cost_center,valid_from,valid_to.\n"
	"Nothing is applied when any row is wrong.\n\n"
	"options:\n"
	"  --create-missing        create unknown teams and cost centres\n" CTL_COMMON_HELP;

int
cmd_directory(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	bool create_missing = false;
	const struct options_entry entries[] = {
		{ "create-missing", 0, NULL, &create_missing },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, NULL, 1, false };
	struct import im;
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 2 != argc || strcmp(argv[optind], "import") != 0) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl directory import [--create-missing] "
				"FILE.csv; see --help\n");
		return CTL_USAGE;
	}
	rc = import_open(&im, &opts, argv[optind + 1]) < 0 ||
			     import_directory(&im, &opts, create_missing) < 0 ?
		     CTL_FAIL :
		     CTL_OK;
	import_close(&im);
	return rc;
}
