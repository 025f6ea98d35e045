/*
 * replication.c: what `aimeterctl check` says about streaming replication:
 * on a primary, each standby with its state and how far its replay is
 * behind; on a standby, that it is one (the collector cannot write there)
 * and how far it lags. Reports read standbys: their freshness is this lag.
 * A server without replication gets no line.
 */
#include "replication.h"

#include <stdbool.h>
#include <string.h>

#include "ctl.h"

/* Byte lag from the LSNs; seconds only while replay is behind (idle standbys have none). */
static const char primary_sql[] =
	"SELECT coalesce(application_name, ''), coalesce(state, ''), coalesce(sync_state, ''),"
	" coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint::text, 'unknown'),"
	" coalesce(round(extract(epoch FROM replay_lag)::numeric, 3)::text, '0')"
	" FROM pg_stat_replication ORDER BY 1";

static const char sync_names_sql[] = "SELECT current_setting('synchronous_standby_names')";

static const char standby_sql[] =
	"SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'not streaming'),"
	" coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint::text,"
	"          'unknown'),"
	" CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN '0'"
	"      ELSE coalesce(round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
	"                          ::numeric, 3)::text, 'unknown') END";

static int
print_primary(PGconn *conn, FILE *out)
{
	PGresult *r = ctl_query(conn, primary_sql, 0, NULL);
	int n;

	if (r == NULL) {
		return -1;
	}
	n = PQntuples(r);
	if (n == 0) {
		PQclear(r);
		r = ctl_query(conn, sync_names_sql, 0, NULL);
		if (r == NULL) {
			return -1;
		}
		if (PQgetvalue(r, 0, 0)[0] != '\0') {
			/* a standalone server is fine; one waiting for a standby is not */
			fprintf(out, "replication: primary, no standby connected, but "
				     "synchronous_standby_names is set: COMMITs wait for one\n");
		}
	}
	for (int i = 0; i < n; i++) {
		fprintf(out, "replication: standby \"%s\" %s (%s), replay lag %s bytes, %s s\n",
			PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
			PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	}
	PQclear(r);
	return 0;
}

static int
print_standby(PGconn *conn, FILE *out)
{
	PGresult *r = ctl_query(conn, standby_sql, 0, NULL);

	if (r == NULL) {
		return -1;
	}
	fprintf(out, "replication: this server is a standby (read-only: collectors cannot write "
		     "here), WAL receiver %s, replay lag %s bytes, %s s\n",
		PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	PQclear(r);
	return 0;
}

int
replication_check(PGconn *conn, FILE *out)
{
	PGresult *r = ctl_query(conn, "SELECT pg_is_in_recovery()", 0, NULL);
	bool standby;

	if (r == NULL) {
		return -1;
	}
	standby = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return standby ? print_standby(conn, out) : print_primary(conn, out);
}
