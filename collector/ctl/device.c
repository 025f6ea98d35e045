/*
 * device.c: aimeterctl device list|revoke|allow-reenroll|pin|identities:
 * the agents enrolled with the collector, and what each may claim. A revoked
 * device's host stays out until allowed back (migration 0107), whatever
 * enrollment secret it holds.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "rep.h"

static const char help[] =
	"usage: aimeterctl device list [options]\n"
	"       aimeterctl device revoke DEVICE_ID [options]\n"
	"       aimeterctl device allow-reenroll DEVICE_ID|HOSTNAME [options]\n"
	"       aimeterctl device identities DEVICE_ID [options]\n"
	"       aimeterctl device pin DEVICE_ID|--secret ID (--identity NAME... | --team TEAM\n"
	"                             | --clear) [options]\n\n"
	"Lists enrolled devices, or revokes one: its token gets 401 from then on\n"
	"(collectors drop it from their caches at once), and the agent keeps its\n"
	"data. Its host (the hostname it enrolled with) may not enroll again, with\n"
	"any secret, until allow-reenroll lets it. identities lists the identities a\n"
	"device has sent events for, and its pins; pin limits what a device (or\n"
	"every device enrolled with a secret) may claim (see device pin --help).\n\n"
	"options:\n" CTL_COMMON_HELP;

static int
device_usage(FILE *f)
{
	fputs(help, f);
	return f == stdout ? CTL_OK : CTL_USAGE;
}

static int
device_list(PGconn *conn)
{
	PGresult *r = ctl_query(conn,
				"SELECT device_id, coalesce(hostname, ''), coalesce(os, ''),"
				" coalesce(agent_version, ''),"
				" to_char(first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
				" to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
				" coalesce(to_char(revoked_at AT TIME ZONE 'UTC',"
				" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-')"
				" FROM aimeter.devices ORDER BY first_seen, device_id",
				0, NULL);

	if (r == NULL) {
		return CTL_FAIL;
	}
	printf("%-36s  %-20s  %-8s  %-8s  %-20s  %-20s  %s\n", "device_id", "hostname", "os",
	       "agent", "first_seen", "last_seen", "revoked_at");
	for (int i = 0; i < PQntuples(r); i++) {
		printf("%-36s  %-20s  %-8s  %-8s  %-20s  %-20s  %s\n", PQgetvalue(r, i, 0),
		       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		       PQgetvalue(r, i, 4), PQgetvalue(r, i, 5), PQgetvalue(r, i, 6));
	}
	PQclear(r);
	return CTL_OK;
}

static int
device_revoke(PGconn *conn, const char *id)
{
	const char *params[] = { id };
	PGresult *r = ctl_query(conn,
				"UPDATE aimeter.devices SET revoked_at = now()"
				" WHERE device_id::text = $1 AND revoked_at IS NULL"
				" RETURNING device_id",
				1, params);
	int n;

	if (r == NULL) {
		return CTL_FAIL;
	}
	n = PQntuples(r);
	PQclear(r);
	if (n == 0) {
		fprintf(stderr, "aimeterctl: no active device \"%s\"\n", id);
		return CTL_FAIL;
	}
	printf("revoked device %s\n", id);
	return CTL_OK;
}

/* The revocation trigger (0107) records the host and notifies the collectors. */
static int
device_allow_reenroll(PGconn *conn, const char *device_or_host)
{
	const char *params[] = { device_or_host };
	PGresult *r = ctl_query(conn, "SELECT regexp_replace(h, '[[:cntrl:]]', '?', 'g')"
				" FROM aimeter.allow_reenroll($1) h ORDER BY 1", 1,
				params);
	int n;

	if (r == NULL) {
		return CTL_FAIL;
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		printf("host \"%s\" may enroll again\n", PQgetvalue(r, i, 0));
	}
	PQclear(r);
	if (n == 0) {
		fprintf(stderr, "aimeterctl: no blocked host of a revoked device \"%s\"\n",
			device_or_host);
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* ---- device identities and device pin (issue 11) ---------------------------------------- */

static int
device_identities(PGconn *conn, const char *id)
{
	const char *params[] = { id };
	PGresult *r = ctl_query(conn,
				"SELECT coalesce(i.identity, '(unknown) ' || encode(d.identity_hmac, 'hex')),"
				" to_char(d.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
				" to_char(d.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
				" d.events"
				" FROM aimeter.device_identities d"
				" LEFT JOIN aimeter.identities i ON i.identity_hmac = d.identity_hmac"
				" WHERE d.device_id::text = lower($1) ORDER BY d.first_seen, 1",
				1, params);

	if (r == NULL) {
		return CTL_FAIL;
	}
	printf("%-40s  %-20s  %-20s  %s\n", "identity", "first_seen", "last_seen", "events");
	for (int i = 0; i < PQntuples(r); i++) {
		printf("%-40s  %-20s  %-20s  %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
	}
	PQclear(r);
	r = ctl_query(conn,
		      "SELECT CASE WHEN p.team_id IS NOT NULL THEN 'team ' || t.name"
		      " ELSE 'identity ' || coalesce(i.identity, encode(p.identity_hmac, 'hex')) END"
		      " || CASE WHEN p.secret_hash IS NOT NULL"
		      " THEN ' (enrollment secret ' || left(encode(p.secret_hash, 'hex'), 8) || ')'"
		      " ELSE '' END"
		      " FROM aimeter.device_pins p"
		      " LEFT JOIN aimeter.devices d ON d.device_id::text = lower($1)"
		      " LEFT JOIN aimeter.teams t ON t.team_id = p.team_id"
		      " LEFT JOIN aimeter.identities i ON i.identity_hmac = p.identity_hmac"
		      " WHERE p.device_id::text = lower($1) OR p.secret_hash = d.enrolled_with"
		      " ORDER BY 1",
		      1, params);
	if (r == NULL) {
		return CTL_FAIL;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		printf("pinned: %s\n", PQgetvalue(r, i, 0));
	}
	PQclear(r);
	return CTL_OK;
}

static const char pin_help[] =
	"usage: aimeterctl device pin DEVICE_ID|--secret ID (--identity NAME[,NAME...] [NAME...]\n"
	"                             | --team TEAM | --clear) [options]\n\n"
	"Pins a device, or every device enrolled with an enrollment secret (ID:\n"
	"its first hex digits, as enroll-token list shows), to identities or\n"
	"teams. Pins add up; --clear removes them all. Events a pinned device\n"
	"sends for an identity it is not pinned to, attributed to a team it is\n"
	"not pinned to, are rejected one by one as identity_not_allowed.\n"
	"Identities are hashed with the person key.\n\n"
	"options:\n"
	"  --identity NAME         allowed identities (comma-separated; more as operands)\n"
	"  --team TEAM             an allowed team (exactly this team, not its children)\n"
	"  --secret ID             pin the devices of an enrollment secret\n"
	"  --clear                 remove the pins\n" CTL_COMMON_HELP;

/* The pinned subject: a device id, or the hex hash of a secret; NULL = not that kind. */
struct pin_target {
	const char *device;
	char secret_hex[65];
	const char *params[2];
};

static int
pin_resolve(PGconn *conn, const char *device, const char *secret, struct pin_target *ret_t)
{
	const char *params[] = { device != NULL ? device : secret };
	PGresult *r;
	int n;

	memset(ret_t, 0, sizeof(*ret_t));
	r = ctl_query(conn,
		      device != NULL ?
			      "SELECT device_id::text FROM aimeter.devices WHERE device_id::text = lower($1)" :
			      "SELECT encode(secret_hash, 'hex') FROM aimeter.enrollment_secrets"
			      " WHERE starts_with(encode(secret_hash, 'hex'), lower($1)) AND $1 <> ''",
		      1, params);
	if (r == NULL) {
		return -1;
	}
	n = PQntuples(r);
	if (n != 1) {
		fprintf(stderr, "aimeterctl: %s %s \"%s\"\n", n == 0 ? "no" : "more than one",
			device != NULL ? "device" : "enrollment secret", params[0]);
		PQclear(r);
		return -1;
	}
	if (device != NULL) {
		ret_t->device = device;
		ret_t->params[0] = device;
	} else {
		snprintf(ret_t->secret_hex, sizeof(ret_t->secret_hex), "%s", PQgetvalue(r, 0, 0));
		ret_t->params[1] = ret_t->secret_hex;
	}
	PQclear(r);
	return 0;
}

/* Insert one pin row: hmac an identity HMAC ("\\x..."), or team a known team's name. */
static int
pin_insert(PGconn *conn, const struct pin_target *t, const char *hmac, const char *team)
{
	const char *params[] = { t->params[0], t->params[1], hmac, team };
	PGresult *r = ctl_query(conn,
				"INSERT INTO aimeter.device_pins (device_id, secret_hash, identity_hmac,"
				" team_id)"
				" VALUES ($1::uuid, decode($2, 'hex'), $3::bytea,"
				" (SELECT team_id FROM aimeter.teams WHERE name = $4))"
				" ON CONFLICT DO NOTHING",
				4, params);

	if (r == NULL) {
		return -1;
	}
	PQclear(r);
	return 0;
}

static int
team_exists(PGconn *conn, const char *team)
{
	PGresult *r = ctl_query(conn, "SELECT 1 FROM aimeter.teams WHERE name = $1", 1, &team);
	int n;

	if (r == NULL) {
		return -1;
	}
	n = PQntuples(r);
	PQclear(r);
	if (n == 0) {
		fprintf(stderr, "aimeterctl: unknown team \"%s\"\n", team);
		return -1;
	}
	return 0;
}

static int
pin_identities(PGconn *conn, const struct ctl_opts *opts, const struct pin_target *t,
	       const char *list, char **more, int n_more, int *ret_n)
{
	uint8_t key[256], mac[AM_IDENTITY_HMAC_LEN];
	size_t key_len = 0;
	char hex[67], *copy, *save = NULL;
	int rc = -1;

	if (ctl_person_key(opts, key, &key_len) < 0) {
		return -1;
	}
	copy = strdup(list != NULL ? list : "");
	if (copy == NULL) {
		fprintf(stderr, "aimeterctl: out of memory\n");
		return -1;
	}
	for (int i = -1; i < n_more; i++) {
		char *tok = i < 0 ? strtok_r(copy, ",", &save) : more[i];

		for (; tok != NULL; tok = i < 0 ? strtok_r(NULL, ",", &save) : NULL) {
			char norm[256];

			if (identity_normalize(tok, norm, sizeof(norm)) <= 0 ||
			    identity_hmac(key, key_len, norm, mac) < 0) {
				fprintf(stderr, "aimeterctl: identity \"%s\" is empty or too long\n",
					tok);
				goto out;
			}
			rep_hmac_hex(mac, hex);
			if (pin_insert(conn, t, hex, NULL) < 0) {
				goto out;
			}
			(*ret_n)++;
		}
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

static int
device_pin(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *identity = NULL, *team = NULL, *secret = NULL, *device = NULL;
	bool clear = false;
	const struct options_entry entries[] = {
		{ "identity", 0, &identity, NULL },
		{ "team", 0, &team, NULL },
		{ "secret", 0, &secret, NULL },
		{ "clear", 0, NULL, &clear },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { pin_help, entries, NULL, 2, true };
	struct pin_target t;
	char detail[512];
	const char *audit[3];
	int n = 0, rc = options_parse(&spec, argc, argv, &opts), kinds;
	PGconn *conn;
	PGresult *r;

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (secret == NULL && optind < argc) {
		device = argv[optind++];
	}
	kinds = (identity != NULL) + (team != NULL) + clear;
	if ((device == NULL) == (secret == NULL) || kinds != 1 ||
	    (identity == NULL && optind != argc)) {
		fputs(pin_help, stderr);
		return CTL_USAGE;
	}
	conn = ctl_connect(&opts);
	if (conn == NULL) {
		return CTL_FAIL;
	}
	rc = CTL_FAIL;
	if (ctl_exec(conn, "BEGIN") < 0 || pin_resolve(conn, device, secret, &t) < 0) {
		goto out;
	}
	if (clear) {
		r = ctl_query(conn,
			      "DELETE FROM aimeter.device_pins WHERE device_id = $1::uuid"
			      " OR secret_hash = decode($2, 'hex')",
			      2, t.params);
		if (r == NULL) {
			goto out;
		}
		n = atoi(PQcmdTuples(r));
		PQclear(r);
	} else if (team != NULL) {
		if (team_exists(conn, team) < 0 || pin_insert(conn, &t, NULL, team) < 0) {
			goto out;
		}
		n = 1;
	} else if (pin_identities(conn, &opts, &t, identity, argv + optind, argc - optind, &n) < 0) {
		goto out;
	}
	snprintf(detail, sizeof(detail), "{\"clear\": %s, \"identities\": %d, \"team\": %s}",
		 clear ? "true" : "false", identity != NULL ? n : 0, team != NULL ? "true" : "false");
	audit[0] = clear ? "device_unpin" : "device_pin";
	audit[1] = device != NULL ? device : t.secret_hex;
	audit[2] = detail;
	r = ctl_query(conn, "SELECT aimeter.audit($1, $2, $3::jsonb)", 3, audit);
	if (r == NULL) {
		goto out;
	}
	PQclear(r);
	if (ctl_exec(conn, "COMMIT") < 0) {
		goto out;
	}
	if (clear) {
		printf("removed %d pin%s of %s\n", n, n == 1 ? "" : "s", audit[1]);
	} else if (team != NULL) {
		printf("pinned %s to team %s\n", audit[1], team);
	} else {
		printf("pinned %s to %d identit%s\n", audit[1], n, n == 1 ? "y" : "ies");
	}
	rc = CTL_OK;
out:
	if (rc != CTL_OK) {
		/* The error above is what matters. */
		(void)ctl_exec(conn, "ROLLBACK");
	}
	PQfinish(conn);
	return rc;
}

int
cmd_device(int argc, char **argv)
{
	/* Options follow the subcommand; a bad one prints the help too. */
	const struct options_spec spec = { help, NULL, NULL, 2, true };
	struct ctl_opts opts = { 0 };
	const char *sub;
	PGconn *conn;
	int rc;

	if (argc < 2) {
		return device_usage(stderr);
	}
	sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		return device_usage(stdout);
	}
	if (strcmp(sub, "pin") == 0) {
		return device_pin(argc, argv);
	}
	rc = options_parse(&spec, argc, argv, &opts);
	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (strcmp(sub, "list") == 0 && optind == argc) {
		conn = ctl_connect(&opts);
		if (conn == NULL) {
			return CTL_FAIL;
		}
		rc = device_list(conn);
	} else if (strcmp(sub, "revoke") == 0 && optind + 1 == argc) {
		conn = ctl_connect(&opts);
		if (conn == NULL) {
			return CTL_FAIL;
		}
		rc = device_revoke(conn, argv[optind]);
	} else if (strcmp(sub, "allow-reenroll") == 0 && optind + 1 == argc) {
		conn = ctl_connect(&opts);
		if (conn == NULL) {
			return CTL_FAIL;
		}
		rc = device_allow_reenroll(conn, argv[optind]);
	} else if (strcmp(sub, "identities") == 0 && optind + 1 == argc) {
		conn = ctl_connect(&opts);
		if (conn == NULL) {
			return CTL_FAIL;
		}
		rc = device_identities(conn, argv[optind]);
	} else {
		return device_usage(stderr);
	}
	PQfinish(conn);
	return rc;
}
