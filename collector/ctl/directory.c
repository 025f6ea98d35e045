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
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "ctl.h"

static bool
is_date(const char *s)
{
	if (strlen(s) != 10) {
		return false;
	}
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) {
			return false;
		}
	}
	return true;
}

static int
check_period(const char *path, unsigned line, const char *from, const char *to)
{
	if ((from[0] != '\0' && !is_date(from)) || (to[0] != '\0' && !is_date(to))) {
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

static void
hex32(const uint8_t *p, char out[67])
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'x';
	for (int i = 0; i < 32; i++) {
		out[2 + 2 * i] = hex[p[i] >> 4];
		out[3 + 2 * i] = hex[p[i] & 15];
	}
	out[66] = '\0';
}

/* Print every row of r as "path:line: <fmt with column 1 and 2>". True if any. */
static bool
report_rows(PGresult *r, const char *path, const char *what)
{
	int n = r != NULL ? PQntuples(r) : 0;

	for (int i = 0; i < n; i++) {
		fprintf(stderr, "%s:%s: %s \"%s\"%s%s\n", path, PQgetvalue(r, i, 0), what,
			PQgetvalue(r, i, 1), PQnfields(r) > 2 ? " " : "",
			PQnfields(r) > 2 ? PQgetvalue(r, i, 2) : "");
	}
	return n > 0;
}

static int
stage_memberships(PGconn *conn, const char *path, struct csv_reader *r, const uint8_t *key,
		  size_t key_len)
{
	int ci = csv_column(r, "identity"), ct = csv_column(r, "team"),
	    cc = csv_column(r, "cost_center"), cf = csv_column(r, "valid_from"),
	    cto = csv_column(r, "valid_to"), cp = csv_column(r, "person");
	size_t n_header = r->n_fields;
	char err[256], line_s[16], ih[67], pk[67], norm_id[1024], norm_p[1024];
	uint8_t mac[32];
	int got;

	if (ct < 0 || cc < 0 || cf < 0 || cto < 0) {
		fprintf(stderr, "%s:%u: the header is identity,team,cost_center,valid_from,valid_to\n",
			path, r->line);
		return -1;
	}
	if (ctl_exec(conn, "CREATE TEMP TABLE am_dir (line int, identity text, identity_hmac bytea,"
			   " person text, person_key bytea, team text, cost_center text,"
			   " valid_from date, valid_to date) ON COMMIT DROP") < 0) {
		return -1;
	}
	while ((got = csv_next(r, err, sizeof(err))) != 0) {
		const char *id, *person, *p[9];
		PGresult *res;

		if (got < 0) {
			fprintf(stderr, "%s:%u: %s\n", path, r->line, err);
			return -1;
		}
		if (r->n_fields != n_header) {
			fprintf(stderr, "%s:%u: %zu fields where the header has %zu\n", path, r->line,
				r->n_fields, n_header);
			return -1;
		}
		id = r->fields[ci];
		person = cp >= 0 && r->fields[cp][0] != '\0' ? r->fields[cp] : id;
		if (identity_normalize(id, norm_id, sizeof(norm_id)) <= 0 ||
		    identity_normalize(person, norm_p, sizeof(norm_p)) <= 0) {
			fprintf(stderr, "%s:%u: identity is empty or too long\n", path, r->line);
			return -1;
		}
		if (r->fields[ct][0] == '\0') {
			fprintf(stderr, "%s:%u: team is empty\n", path, r->line);
			return -1;
		}
		if (check_period(path, r->line, r->fields[cf], r->fields[cto]) < 0) {
			return -1;
		}
		snprintf(line_s, sizeof(line_s), "%u", r->line);
		if (identity_hmac(key, key_len, norm_id, mac) < 0) {
			return -1;
		}
		hex32(mac, ih);
		if (identity_hmac(key, key_len, norm_p, mac) < 0) {
			return -1;
		}
		hex32(mac, pk);
		p[0] = line_s;
		p[1] = norm_id;
		p[2] = ih;
		p[3] = norm_p;
		p[4] = pk;
		p[5] = r->fields[ct];
		p[6] = r->fields[cc][0] != '\0' ? r->fields[cc] : NULL;
		p[7] = r->fields[cf][0] != '\0' ? r->fields[cf] : NULL;
		p[8] = r->fields[cto][0] != '\0' ? r->fields[cto] : NULL;
		res = PQexecParams(conn,
				   "INSERT INTO am_dir VALUES ($1, $2, $3, $4, $5, $6, $7, "
				   "coalesce($8::date, '-infinity'), $9)",
				   9, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "%s:%u: %s", path, r->line, PQerrorMessage(conn));
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

static int
apply_memberships(PGconn *conn, const char *path, bool create_missing)
{
	PGresult *r;
	bool bad;

	/* One identity, one person. */
	r = ctl_query(conn,
		      "SELECT min(a.line)::text, a.identity, 'belongs to two people in this file'"
		      "  FROM am_dir a GROUP BY a.identity HAVING count(DISTINCT a.person) > 1",
		      0, NULL);
	bad = r == NULL || report_rows(r, path, "identity");
	PQclear(r);
	if (bad) {
		return -1;
	}
	r = ctl_query(conn,
		      "SELECT b.line::text, b.person, 'has periods that overlap line ' || a.line"
		      "  FROM am_dir a JOIN am_dir b ON a.person = b.person AND a.line < b.line"
		      " WHERE daterange(a.valid_from, a.valid_to) && daterange(b.valid_from, b.valid_to)"
		      "   AND (a.team, a.cost_center, a.valid_from, a.valid_to) IS DISTINCT FROM"
		      "       (b.team, b.cost_center, b.valid_from, b.valid_to)"
		      " ORDER BY b.line",
		      0, NULL);
	bad = r == NULL || report_rows(r, path, "person");
	PQclear(r);
	if (bad) {
		return -1;
	}
	if (!create_missing) {
		r = ctl_query(conn,
			      "SELECT min(d.line)::text, d.team, '(use --create-missing to create it)'"
			      "  FROM am_dir d WHERE NOT EXISTS (SELECT 1 FROM aimeter.teams t"
			      "  WHERE t.name = d.team) GROUP BY d.team ORDER BY 1",
			      0, NULL);
		bad = r == NULL || report_rows(r, path, "unknown team");
		PQclear(r);
		if (bad) {
			return -1;
		}
		r = ctl_query(conn,
			      "SELECT min(d.line)::text, d.cost_center,"
			      " '(use --create-missing to create it)'"
			      "  FROM am_dir d WHERE d.cost_center IS NOT NULL AND NOT EXISTS"
			      "  (SELECT 1 FROM aimeter.cost_centers c WHERE c.code = d.cost_center)"
			      " GROUP BY d.cost_center ORDER BY 1",
			      0, NULL);
		bad = r == NULL || report_rows(r, path, "unknown cost centre");
		PQclear(r);
		if (bad) {
			return -1;
		}
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
stage_teams(PGconn *conn, const char *path, struct csv_reader *r)
{
	int ct = csv_column(r, "team"), cpa = csv_column(r, "parent"),
	    cc = csv_column(r, "cost_center"), cf = csv_column(r, "valid_from"),
	    cto = csv_column(r, "valid_to");
	size_t n_header = r->n_fields;
	char err[256], line_s[16];
	int got;

	if (cpa < 0 || cc < 0 || cf < 0 || cto < 0) {
		fprintf(stderr, "%s:%u: the header is team,parent,cost_center,valid_from,valid_to\n",
			path, r->line);
		return -1;
	}
	if (ctl_exec(conn, "CREATE TEMP TABLE am_dir (line int, team text, parent text,"
			   " cost_center text, valid_from date, valid_to date) ON COMMIT DROP") < 0) {
		return -1;
	}
	while ((got = csv_next(r, err, sizeof(err))) != 0) {
		const char *p[6];
		PGresult *res;

		if (got < 0) {
			fprintf(stderr, "%s:%u: %s\n", path, r->line, err);
			return -1;
		}
		if (r->n_fields != n_header) {
			fprintf(stderr, "%s:%u: %zu fields where the header has %zu\n", path, r->line,
				r->n_fields, n_header);
			return -1;
		}
		if (r->fields[ct][0] == '\0' || strcmp(r->fields[ct], "unassigned") == 0) {
			fprintf(stderr, "%s:%u: team is empty or reserved\n", path, r->line);
			return -1;
		}
		if (check_period(path, r->line, r->fields[cf], r->fields[cto]) < 0) {
			return -1;
		}
		snprintf(line_s, sizeof(line_s), "%u", r->line);
		p[0] = line_s;
		p[1] = r->fields[ct];
		p[2] = r->fields[cpa][0] != '\0' ? r->fields[cpa] : NULL;
		p[3] = r->fields[cc][0] != '\0' ? r->fields[cc] : NULL;
		p[4] = r->fields[cf][0] != '\0' ? r->fields[cf] : NULL;
		p[5] = r->fields[cto][0] != '\0' ? r->fields[cto] : NULL;
		res = PQexecParams(conn,
				   "INSERT INTO am_dir VALUES ($1, $2, $3, $4, "
				   "coalesce($5::date, '-infinity'), $6)",
				   6, NULL, p, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "%s:%u: %s", path, r->line, PQerrorMessage(conn));
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

static int
apply_teams(PGconn *conn, const char *path, bool create_missing)
{
	PGresult *r;
	bool bad;

	r = ctl_query(conn,
		      "SELECT b.line::text, b.team, 'has periods that overlap line ' || a.line"
		      "  FROM am_dir a JOIN am_dir b ON a.team = b.team AND a.line < b.line"
		      " WHERE daterange(a.valid_from, a.valid_to) && daterange(b.valid_from, b.valid_to)"
		      "   AND a.cost_center IS NOT NULL AND b.cost_center IS NOT NULL"
		      " ORDER BY b.line",
		      0, NULL);
	bad = r == NULL || report_rows(r, path, "team");
	PQclear(r);
	if (bad) {
		return -1;
	}
	r = ctl_query(conn,
		      "SELECT min(line)::text, team, 'has two parents in this file' FROM am_dir"
		      " GROUP BY team HAVING count(DISTINCT coalesce(parent, '')) > 1",
		      0, NULL);
	bad = r == NULL || report_rows(r, path, "team");
	PQclear(r);
	if (bad) {
		return -1;
	}
	if (!create_missing) {
		r = ctl_query(conn,
			      "SELECT min(d.line)::text, d.parent, '(use --create-missing to create it)'"
			      "  FROM am_dir d WHERE d.parent IS NOT NULL"
			      "   AND NOT EXISTS (SELECT 1 FROM aimeter.teams t WHERE t.name = d.parent)"
			      "   AND NOT EXISTS (SELECT 1 FROM am_dir e WHERE e.team = d.parent)"
			      " GROUP BY d.parent ORDER BY 1",
			      0, NULL);
		bad = r == NULL || report_rows(r, path, "unknown parent team");
		PQclear(r);
		if (bad) {
			return -1;
		}
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
import_directory(PGconn *conn, const struct ctl_opts *opts, const char *path, const char *buf,
		 size_t len, bool create_missing)
{
	struct csv_reader r;
	char err[256];
	uint8_t key[256];
	size_t key_len = 0;
	int got, rc = -1;
	bool teams;

	csv_init(&r, buf, len);
	got = csv_next(&r, err, sizeof(err));
	if (got <= 0) {
		fprintf(stderr, "%s:%u: %s\n", path, r.line ? r.line : 1,
			got < 0 ? err : "no header row");
		goto out;
	}
	teams = csv_column(&r, "identity") < 0 && csv_column(&r, "team") >= 0 &&
		csv_column(&r, "parent") >= 0;
	if (!teams && csv_column(&r, "identity") < 0) {
		fprintf(stderr, "%s:%u: the header is identity,team,cost_center,valid_from,valid_to "
				"or team,parent,cost_center,valid_from,valid_to\n",
			path, r.line);
		goto out;
	}
	if (!teams && ctl_person_key(opts, key, &key_len) < 0) {
		goto out;
	}
	if (ctl_exec(conn, "BEGIN") < 0) {
		goto out;
	}
	if (teams ? stage_teams(conn, path, &r) < 0 ||
			    apply_teams(conn, path, create_missing) < 0 :
		    stage_memberships(conn, path, &r, key, key_len) < 0 ||
			    apply_memberships(conn, path, create_missing) < 0) {
		fprintf(stderr, "%s: nothing imported\n", path);
		/* Already failing; the rollback's own error adds nothing. */
		(void)ctl_exec(conn, "ROLLBACK");
		goto out;
	}
	if (ctl_exec(conn, "COMMIT") < 0) {
		goto out;
	}
	printf("%s: %s imported\n", path, teams ? "teams" : "memberships");
	rc = 0;
out:
	csv_finish(&r);
	return rc;
}

int
cmd_directory(int argc, char **argv)
{
	static const struct option longopts[] = { CTL_COMMON_LONGOPTS,
						  { "create-missing", no_argument, NULL, 'c' },
						  { NULL, 0, NULL, 0 } };
	struct ctl_opts opts = { 0 };
	bool create_missing = false;
	char *buf = NULL;
	size_t len = 0;
	PGconn *conn;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ctl_common_option(&opts, c, optarg)) {
			continue;
		}
		if (c == 'c') {
			create_missing = true;
			continue;
		}
		if (c == 'h') {
			printf("usage: aimeterctl directory import [options] FILE.csv\n\n"
			       "Memberships: header identity,team,cost_center,valid_from,valid_to\n"
			       "(optional column person groups several identities into one\n"
			       "person); one row per period [valid_from, valid_to), dates UTC,\n"
			       "empty valid_to = open, cost_center overrides the team's. The file\n"
			       "replaces the memberships of each person it names; overlapping\n"
			       "periods are refused. Needs the person key.\n"
			       "Teams: header team,parent,cost_center,valid_from,valid_to.\n"
			       "Nothing is applied when any row is wrong.\n\n"
			       "options:\n"
			       "  --create-missing        create unknown teams and cost centres\n" CTL_COMMON_HELP);
			return CTL_OK;
		}
		return CTL_USAGE;
	}
	if (optind + 2 != argc || strcmp(argv[optind], "import") != 0) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl directory import [--create-missing] "
				"FILE.csv; see --help\n");
		return CTL_USAGE;
	}
	if (ctl_read_file(argv[optind + 1], &buf, &len) < 0) {
		return CTL_FAIL;
	}
	conn = ctl_connect(&opts);
	if (conn == NULL) {
		free(buf);
		return CTL_FAIL;
	}
	rc = import_directory(conn, &opts, argv[optind + 1], buf, len, create_missing);
	PQfinish(conn);
	free(buf);
	return rc < 0 ? CTL_FAIL : CTL_OK;
}
