/*
 * device.c: aimeterctl device list|revoke|allow-reenroll: the agents
 * enrolled with the collector. A revoked device's host stays out until
 * allowed back (migration 0107), whatever enrollment secret it holds.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

static const char help[] =
	"usage: aimeterctl device list [options]\n"
	"       aimeterctl device revoke DEVICE_ID [options]\n"
	"       aimeterctl device allow-reenroll DEVICE_ID|HOSTNAME [options]\n\n"
	"Lists enrolled devices, or revokes one: its token gets 401 from then on\n"
	"(collectors drop it from their caches at once), and the agent keeps its\n"
	"data. Its host (the hostname it enrolled with) may not enroll again, with\n"
	"any secret, until allow-reenroll lets it.\n\n"
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
	} else {
		return device_usage(stderr);
	}
	PQfinish(conn);
	return rc;
}
