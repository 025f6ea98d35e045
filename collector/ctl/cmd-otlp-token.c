/*
 * cmd-otlp-token.c: aimeterctl otlp-token create|list|revoke: the bearer
 * tokens OpenTelemetry senders (Claude Code and the like, where no agent
 * runs) present to the collector's /v1/logs, /v1/metrics and /v1/traces
 * (docs/otlp.md). The database keeps only their SHA-256 (migration 0012).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "ctl.h"

#define OTLP_TOKEN_PREFIX "amotlp_"

enum { OPT_NAME = 2100, OPT_TEAM, OPT_EXPIRES };

static int
usage(FILE *f)
{
	fprintf(f, "usage: aimeterctl otlp-token create --name NAME [--team TEAM]\n"
		   "                                    [--expires DAYS] [options]\n"
		   "       aimeterctl otlp-token list [options]\n"
		   "       aimeterctl otlp-token revoke NAME [options]\n\n"
		   "Bearer tokens for OpenTelemetry (OTLP/HTTP) senders: tools that export\n"
		   "their own telemetry where no agent runs (CI runners, containers). Put the\n"
		   "token in OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer TOKEN\". The\n"
		   "database keeps only its hash; create prints the token alone on stdout\n"
		   "(it cannot be shown again). Revoked and expired tokens get 401.\n\n"
		   "  --name NAME     a unique name for list and revoke (1 to 127 bytes)\n"
		   "  --team TEAM     pin the token to a team: its events carry that team\n"
		   "  --expires DAYS  lifetime in whole days (default: never)\n\n"
		   "options:\n" CTL_COMMON_HELP);
	return f == stdout ? CTL_OK : CTL_USAGE;
}

static int
token_create(PGconn *conn, const char *name, const char *team, long days)
{
	char token[64], hash_hex[2 * SHA256_DIGEST_LENGTH + 1], days_s[24];
	const char *params[4] = { name, hash_hex, team != NULL ? team : "", days_s };
	PGresult *r;
	int rc = CTL_FAIL;

	if (ctl_secret_new(OTLP_TOKEN_PREFIX, token, sizeof(token), hash_hex) < 0) {
		return CTL_FAIL;
	}
	snprintf(days_s, sizeof(days_s), "%ld", days);
	r = ctl_query(conn,
		      "INSERT INTO aimeter.otlp_tokens (name, token_hash, team_hint, expires_at)"
		      " VALUES ($1, decode($2, 'hex'), nullif($3, ''),"
		      " CASE WHEN $4::int > 0 THEN now() + make_interval(days => $4::int) END)"
		      " RETURNING token_id",
		      4, params);
	if (r != NULL && PQntuples(r) == 1) {
		printf("%s\n", token);
		fflush(stdout);
		fprintf(stderr, "OTLP token \"%s\" created%s%s\n", name, team ? " for team " : "",
			team ? team : "");
		rc = CTL_OK;
	}
	PQclear(r);
	OPENSSL_cleanse(token, sizeof(token));
	return rc;
}

static int
token_list(PGconn *conn)
{
	PGresult *r = ctl_query(
		conn,
		"SELECT name, CASE WHEN revoked_at IS NOT NULL THEN 'revoked'"
		" WHEN expires_at <= now() THEN 'expired' ELSE 'active' END,"
		" to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		" coalesce(to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		" 'never'), coalesce(team_hint, '-')"
		" FROM aimeter.otlp_tokens ORDER BY created_at, name",
		0, NULL);

	if (r == NULL) {
		return CTL_FAIL;
	}
	printf("%-24s  %-7s  %-20s  %-20s  %s\n", "name", "status", "created", "expires", "team");
	for (int i = 0; i < PQntuples(r); i++) {
		printf("%-24s  %-7s  %-20s  %-20s  %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		       PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	}
	PQclear(r);
	return CTL_OK;
}

static int
token_revoke(PGconn *conn, const char *name)
{
	const char *params[] = { name };
	PGresult *r = ctl_query(conn,
				"UPDATE aimeter.otlp_tokens SET revoked_at = coalesce(revoked_at, now())"
				" WHERE name = $1 RETURNING token_id",
				1, params);
	int rc = CTL_FAIL;

	if (r == NULL) {
		return CTL_FAIL;
	}
	if (PQntuples(r) == 0) {
		fprintf(stderr, "aimeterctl: no OTLP token named \"%s\"\n", name);
	} else {
		printf("revoked OTLP token \"%s\"\n", name);
		rc = CTL_OK;
	}
	PQclear(r);
	return rc;
}

/* A name or team: 1 to 127 bytes. */
static bool
label_ok(const char *s)
{
	return s[0] != '\0' && strlen(s) <= 127;
}

int
cmd_otlp_token(int argc, char **argv)
{
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ "name", required_argument, NULL, OPT_NAME },
		{ "team", required_argument, NULL, OPT_TEAM },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts opts = { 0 };
	const char *sub, *name = NULL, *team = NULL;
	long days = 0;
	char *end;
	PGconn *conn;
	int c, rc;

	if (argc < 2) {
		return usage(stderr);
	}
	sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		return usage(stdout);
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ctl_common_option(&opts, c, optarg)) {
			continue;
		}
		switch (c) {
		case OPT_NAME:
		case OPT_TEAM:
			if (!label_ok(optarg)) {
				fprintf(stderr, "aimeterctl: --name and --team take 1 to 127 bytes\n");
				return CTL_USAGE;
			}
			*(c == OPT_NAME ? &name : &team) = optarg;
			break;
		case OPT_EXPIRES:
			errno = 0;
			days = strtol(optarg, &end, 10);
			/* "30" and "30d" both mean thirty days; ten years at most. */
			if (errno != 0 || end == optarg || (*end != '\0' && strcmp(end, "d") != 0) ||
			    days < 1 || days > 3660) {
				fprintf(stderr, "aimeterctl: --expires takes 1 to 3660 days\n");
				return CTL_USAGE;
			}
			break;
		default:
			return usage(c == 'h' ? stdout : stderr);
		}
	}
	if (strcmp(sub, "create") == 0 && optind == argc && name != NULL) {
		conn = ctl_connect(&opts);
		if (conn == NULL) {
			return CTL_FAIL;
		}
		rc = token_create(conn, name, team, days);
	} else if (strcmp(sub, "list") == 0 && optind == argc) {
		conn = ctl_connect(&opts);
		if (conn == NULL) {
			return CTL_FAIL;
		}
		rc = token_list(conn);
	} else if (strcmp(sub, "revoke") == 0 && optind + 1 == argc) {
		conn = ctl_connect(&opts);
		if (conn == NULL) {
			return CTL_FAIL;
		}
		rc = token_revoke(conn, argv[optind]);
	} else {
		return usage(stderr);
	}
	PQfinish(conn);
	return rc;
}
