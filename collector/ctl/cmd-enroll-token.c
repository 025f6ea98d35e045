/*
 * cmd-enroll-token.c: aimeterctl enroll-token create|list|revoke: the
 * secrets agents enroll with. The database keeps only their SHA-256; a
 * secret is good for enrollment only, and each device then gets a token of
 * its own (aimeter.enroll_device, migration 0005).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "ctl.h"

#define SECRET_PREFIX "amenroll_"
#define EXPIRES_MAX_S (3660LL * 86400) /* ten years */
#define SECRET_BITS 264			   /* what create makes; the database wants >= 128 */
#define MAX_DEVICES_MAX 1000000L	   /* migration 0107's check */

enum { OPT_EXPIRES = 2000, OPT_TEAM, OPT_LABEL, OPT_MAX_DEVICES };

static int
usage(FILE *f)
{
	fprintf(f, "usage: aimeterctl enroll-token create [--expires DURATION] [--team TEAM]\n"
		   "                                      [--label TEXT] [--max-devices N]\n"
		   "                                      [options]\n"
		   "       aimeterctl enroll-token list [options]\n"
		   "       aimeterctl enroll-token set ID --max-devices N [options]\n"
		   "       aimeterctl enroll-token revoke ID [options]\n\n"
		   "Enrollment secrets: what device management gives each agent once. An\n"
		   "agent exchanges it for a device token of its own; the database keeps\n"
		   "only hashes. create prints the secret alone on stdout (it cannot be\n"
		   "shown again) and its id on stderr. Expired and revoked secrets are\n"
		   "refused; revoking one leaves the devices enrolled with it enrolled\n"
		   "(aimeterctl device revoke removes a device). The collector's\n"
		   "[enrollment] secret_file, if set, is listed here too and can be revoked.\n"
		   "A secret enrolls at most its cap of active devices (revoked ones do\n"
		   "not count); set changes the cap, the secret_file's too.\n\n"
		   "  --expires DURATION  lifetime: N followed by m, h, d or w (default 7d),\n"
		   "                      or \"never\"\n"
		   "  --team TEAM         team hint for the events of devices enrolled with it\n"
		   "                      (their own [identity] team_hint wins)\n"
		   "  --label TEXT        a note shown by list\n"
		   "  --max-devices N     cap of active devices (1 to 1000000; default 1000)\n"
		   "  ID                  the id list shows (8 or more hex digits)\n\n"
		   "As root on the server, no --db is needed: aimeterctl connects over the\n"
		   "local socket as the postgres user.\n\n"
		   "options:\n" CTL_COMMON_HELP);
	return f == stdout ? CTL_OK : CTL_USAGE;
}

/* parse_duration(s, ret_s): "7d" and the like, or "never" (0). Returns 0 or -1. */
static int
parse_duration(const char *s, long long *ret_s)
{
	char *end;
	long long n, mul;

	if (strcmp(s, "never") == 0) {
		*ret_s = 0;
		return 0;
	}
	if (!isdigit((unsigned char)s[0])) {
		return -1;
	}
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || n <= 0 || end[0] == '\0' || end[1] != '\0') {
		return -1;
	}
	switch (end[0]) {
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	case 'w':
		mul = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (n > EXPIRES_MAX_S / mul) {
		return -1;
	}
	*ret_s = n * mul;
	return 0;
}

#define INSERT_SECRET(max_col, max_val)                                                         \
	"INSERT INTO aimeter.enrollment_secrets (secret_hash, label, expires_at, team_hint,"    \
	" secret_bits" max_col ") VALUES (decode($1, 'hex'), nullif($2, ''),"                   \
	" CASE WHEN $3::bigint > 0 THEN now() + make_interval(secs => $3::bigint) END,"         \
	" nullif($4, ''), $5::int" max_val ") RETURNING encode(substr(secret_hash, 1, 4), 'hex')"

/* token_insert(...): ctl_enroll_token_create with a cap (0: the database's default). */
static int
token_insert(PGconn *conn, long long expires_s, const char *team, const char *label,
	     long max_devices, char *ret_secret, size_t size, char *ret_id, size_t id_size)
{
	char secret[64], hash_hex[2 * SHA256_DIGEST_LENGTH + 1], secs[32], bits[16], max[24];
	const char *params[6];
	PGresult *r;
	int rc = -1;

	if (size < sizeof(secret) || id_size < 16) {
		fprintf(stderr, "aimeterctl: enrollment secret buffer too small\n");
		return -1;
	}
	if (ctl_secret_new(SECRET_PREFIX, secret, sizeof(secret), hash_hex) < 0) {
		return -1;
	}
	snprintf(secs, sizeof(secs), "%lld", expires_s);
	params[0] = hash_hex;
	params[1] = label != NULL ? label : "";
	params[2] = secs;
	params[3] = team != NULL ? team : "";
	snprintf(bits, sizeof(bits), "%d", SECRET_BITS);
	snprintf(max, sizeof(max), "%ld", max_devices);
	params[4] = bits;
	params[5] = max;
	/* Without --max-devices the column's default applies (migration 0107). */
	r = ctl_query(conn,
		      max_devices > 0 ?
			      INSERT_SECRET(", max_devices", ", $6::int") :
			      INSERT_SECRET("", ""),
		      max_devices > 0 ? 6 : 5, params);
	if (r != NULL && PQntuples(r) == 1) {
		snprintf(ret_id, id_size, "%s", PQgetvalue(r, 0, 0));
		memcpy(ret_secret, secret, strlen(secret) + 1);
		rc = 0;
	}
	PQclear(r);
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

int
ctl_enroll_token_create(PGconn *conn, long long expires_s, const char *team, const char *label,
			char *ret_secret, size_t size, char *ret_id, size_t id_size)
{
	return token_insert(conn, expires_s, team, label, 0, ret_secret, size, ret_id, id_size);
}

static int
token_create(PGconn *conn, long long expires_s, const char *team, const char *label,
	     long max_devices)
{
	char secret[64], id[16];
	const char *params[] = { team };
	PGresult *r;

	if (team != NULL) {
		r = ctl_query(conn, "SELECT 1 FROM aimeter.teams WHERE name = $1", 1, params);
		if (r == NULL) {
			return CTL_FAIL;
		}
		if (PQntuples(r) == 0) {
			fprintf(stderr,
				"aimeterctl: warning: no team \"%s\" in the directory yet; events get "
				"it as their team hint, which counts once the team exists\n",
				team);
		}
		PQclear(r);
	}
	if (token_insert(conn, expires_s, team, label, max_devices, secret, sizeof(secret), id,
			 sizeof(id)) < 0) {
		return CTL_FAIL;
	}
	printf("%s\n", secret);
	fflush(stdout);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (expires_s > 0) {
		fprintf(stderr, "enrollment secret %s created; expires in %lld h\n", id,
			expires_s / 3600);
	} else {
		fprintf(stderr, "enrollment secret %s created; never expires\n", id);
	}
	return CTL_OK;
}

static int
token_list(PGconn *conn)
{
	PGresult *r = ctl_query(
		conn,
		"SELECT encode(substr(s.secret_hash, 1, 4), 'hex'),"
		" CASE WHEN s.revoked_at IS NOT NULL THEN 'revoked'"
		" WHEN s.expires_at <= now() THEN 'expired' ELSE 'active' END,"
		" to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		" coalesce(to_char(s.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		" 'never'),"
		" (SELECT count(*) FROM aimeter.devices d WHERE d.enrolled_with = s.secret_hash"
		" AND d.revoked_at IS NULL), s.max_devices, coalesce(s.secret_bits::text, '?'),"
		" coalesce(s.team_hint, '-'), coalesce(s.label, '')"
		" FROM aimeter.enrollment_secrets s ORDER BY s.created_at, 1",
		0, NULL);

	if (r == NULL) {
		return CTL_FAIL;
	}
	/* bits "?": a secret whose strength was never declared (before migration 0107). */
	printf("%-8s  %-7s  %-20s  %-20s  %7s  %7s  %4s  %-16s  %s\n", "id", "status", "created",
	       "expires", "active", "max", "bits", "team", "label");
	for (int i = 0; i < PQntuples(r); i++) {
		printf("%-8s  %-7s  %-20s  %-20s  %7s  %7s  %4s  %-16s  %s\n", PQgetvalue(r, i, 0),
		       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		       PQgetvalue(r, i, 4), PQgetvalue(r, i, 5), PQgetvalue(r, i, 6),
		       PQgetvalue(r, i, 7), PQgetvalue(r, i, 8));
	}
	PQclear(r);
	return CTL_OK;
}

/* id_valid(id): 8 to 64 hex digits, as list shows; false after printing why. */
static bool
id_valid(const char *id)
{
	size_t len = strlen(id);

	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)id[i])) {
			len = 0;
		}
	}
	if (len < 8 || len > 64) {
		fprintf(stderr, "aimeterctl: \"%s\" is not an enrollment secret id (8 or more hex "
				"digits, as list shows)\n",
			id);
		return false;
	}
	return true;
}

static int
token_set(PGconn *conn, const char *id, long max_devices)
{
	char max[24];
	const char *params[] = { id, max };
	PGresult *r;
	int rc = CTL_FAIL;

	snprintf(max, sizeof(max), "%ld", max_devices);
	/* Like revoke: the prefix must name one secret. */
	r = ctl_query(conn,
		      "WITH m AS (SELECT secret_hash FROM aimeter.enrollment_secrets"
		      " WHERE starts_with(encode(secret_hash, 'hex'), lower($1)))"
		      " UPDATE aimeter.enrollment_secrets s SET max_devices = $2::int"
		      " FROM m WHERE s.secret_hash = m.secret_hash AND (SELECT count(*) FROM m) = 1"
		      " RETURNING (SELECT count(*) FROM aimeter.devices d"
		      " WHERE d.enrolled_with = s.secret_hash AND d.revoked_at IS NULL)",
		      2, params);
	if (r == NULL) {
		return CTL_FAIL;
	}
	if (PQntuples(r) == 0) {
		fprintf(stderr, "aimeterctl: no single enrollment secret with id \"%s\"\n", id);
	} else {
		printf("enrollment secret %s: at most %ld active devices (%s now)\n", id, max_devices,
		       PQgetvalue(r, 0, 0));
		rc = CTL_OK;
	}
	PQclear(r);
	return rc;
}

static int
token_revoke(PGconn *conn, const char *id)
{
	const char *params[] = { id };
	PGresult *r;
	int n, rc = CTL_FAIL;

	if (!id_valid(id)) {
		return CTL_USAGE;
	}
	/* A prefix must name one secret: revoking a guess is worse than asking again. */
	r = ctl_query(conn,
		      "WITH m AS (SELECT secret_hash, revoked_at FROM aimeter.enrollment_secrets"
		      " WHERE starts_with(encode(secret_hash, 'hex'), lower($1)))"
		      " UPDATE aimeter.enrollment_secrets s SET revoked_at = coalesce(s.revoked_at, now())"
		      " FROM m WHERE s.secret_hash = m.secret_hash AND (SELECT count(*) FROM m) = 1"
		      " RETURNING m.revoked_at IS NULL",
		      1, params);
	if (r == NULL) {
		return CTL_FAIL;
	}
	n = PQntuples(r);
	if (n == 0) {
		fprintf(stderr, "aimeterctl: no single enrollment secret with id \"%s\"\n", id);
	} else if (strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
		printf("revoked enrollment secret %s\n", id);
		rc = CTL_OK;
	} else {
		printf("enrollment secret %s was already revoked\n", id);
		rc = CTL_OK;
	}
	PQclear(r);
	return rc;
}

int
cmd_enroll_token(int argc, char **argv)
{
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "team", required_argument, NULL, OPT_TEAM },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "max-devices", required_argument, NULL, OPT_MAX_DEVICES },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts opts = { 0 };
	const char *sub, *team = NULL, *label = NULL;
	long long expires_s = 7 * 86400;
	long max_devices = 0;
	bool create, set;
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
	create = strcmp(sub, "create") == 0;
	set = strcmp(sub, "set") == 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ctl_common_option(&opts, c, optarg)) {
			continue;
		}
		switch (c) {
		case OPT_EXPIRES:
			if (!create || parse_duration(optarg, &expires_s) < 0) {
				fprintf(stderr, "aimeterctl: bad --expires \"%s\": use N followed by "
						"m, h, d or w (at most ten years), or never\n",
					optarg);
				return CTL_USAGE;
			}
			break;
		case OPT_TEAM:
			if (!create || optarg[0] == '\0' || strlen(optarg) > 127) {
				fprintf(stderr, "aimeterctl: --team needs create and 1 to 127 bytes\n");
				return CTL_USAGE;
			}
			team = optarg;
			break;
		case OPT_LABEL:
			if (!create) {
				return usage(stderr);
			}
			label = optarg;
			break;
		case OPT_MAX_DEVICES:
			errno = 0;
			max_devices = strtol(optarg, &end, 10);
			if ((!create && !set) || errno != 0 || end == optarg || *end != '\0' ||
			    max_devices < 1 || max_devices > MAX_DEVICES_MAX) {
				fprintf(stderr, "aimeterctl: --max-devices needs create or set and a "
						"number from 1 to %ld\n",
					MAX_DEVICES_MAX);
				return CTL_USAGE;
			}
			break;
		default:
			return usage(c == 'h' ? stdout : stderr);
		}
	}
	if ((create || strcmp(sub, "list") == 0) && optind == argc) {
		conn = ctl_connect(&opts);
		if (conn == NULL) {
			return CTL_FAIL;
		}
		rc = create ? token_create(conn, expires_s, team, label, max_devices) :
			      token_list(conn);
	} else if (set && optind + 1 == argc && max_devices > 0) {
		if (!id_valid(argv[optind])) {
			return CTL_USAGE;
		}
		conn = ctl_connect(&opts);
		if (conn == NULL) {
			return CTL_FAIL;
		}
		rc = token_set(conn, argv[optind], max_devices);
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
