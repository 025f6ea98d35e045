/* replication.h: streaming replication state for `aimeterctl check`. */
#ifndef AM_CTL_REPLICATION_H
#define AM_CTL_REPLICATION_H

#include <libpq-fe.h>
#include <stdio.h>

/*
 * replication_check(conn, out): print one line per standby (on a primary) or
 * this standby's lag; nothing for a standalone server. Informational: lag is
 * not an error. Returns 0, or -1 after printing why a query failed.
 */
int replication_check(PGconn *conn, FILE *out);

#endif
