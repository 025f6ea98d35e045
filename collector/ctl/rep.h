/*
 * rep.h: what the finance and platform report commands (issue 7) share:
 * output formats, period arguments, running one query, an identity's HMAC.
 * Every command here is a thin shell over SQL in collector/migrations/01xx;
 * docs/reports-finance.md describes the views.
 */
#ifndef AM_CTL_REP_H
#define AM_CTL_REP_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "ctl.h"

enum rep_format { REP_TABLE, REP_CSV, REP_JSON, REP_FORMAT_MAX };

/* rep_parse_format(s, ret): table, csv or json; -1 after printing why. */
int rep_parse_format(const char *s, enum rep_format *ret);

/* rep_parse_month(s, ret_first): "YYYY-MM" -> "YYYY-MM-01" (11 bytes); -1 if malformed. */
int rep_parse_month(const char *s, char ret_first[11]);

/*
 * rep_parse_week(s, ret_monday): ISO week "YYYY-Www" -> its Monday
 * "YYYY-MM-DD" (11 bytes); -1 if malformed or out of range.
 */
int rep_parse_week(const char *s, char ret_monday[11]);

/* rep_is_date(s): true for "YYYY-MM-DD" (shape only; the database checks the rest). */
bool rep_is_date(const char *s);

/* rep_print(r, f): every row of r as a table, CSV with a header, or JSON objects. */
void rep_print(PGresult *r, enum rep_format f);

/*
 * rep_run(opts, sql, nparams, params, f): connect, run one query, print its
 * rows; returns CTL_OK or CTL_FAIL (after printing why).
 */
int rep_run(const struct ctl_opts *opts, const char *sql, int nparams,
	    const char *const *params, enum rep_format f);

/*
 * rep_identity_hex(opts, identity, ret_hex): "\\x" + hex HMAC of the
 * normalised identity under the person key (67 bytes). Returns 0 or -1.
 */
int rep_identity_hex(const struct ctl_opts *opts, const char *identity, char ret_hex[67]);

/* The `report` subcommands of issue 7 (adoption, stalled, seats, budget, initiatives). */
bool rep_report_handles(const char *what);
int rep_report(int argc, char **argv);

int cmd_seats(int argc, char **argv);
int cmd_budget(int argc, char **argv);
int cmd_initiative(int argc, char **argv);
int cmd_month(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_person(int argc, char **argv);
int cmd_retention(int argc, char **argv);

#endif
