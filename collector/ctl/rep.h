/*
 * rep.h: what the finance and platform report commands (issue 7) share:
 * period arguments and an identity's HMAC (output: print.h). Every command
 * here is a thin shell over SQL in collector/schema/ (one object per file);
 * docs/reports-finance.md describes the views.
 */
#ifndef AM_CTL_REP_H
#define AM_CTL_REP_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl.h"

/* rep_parse_month(s, ret_first): "YYYY-MM" -> "YYYY-MM-01" (11 bytes); -1 if malformed. */
int rep_parse_month(const char *s, char ret_first[11]);

/*
 * rep_parse_week(s, ret_monday): ISO week "YYYY-Www" -> its Monday
 * "YYYY-MM-DD" (11 bytes); -1 if malformed or out of range.
 */
int rep_parse_week(const char *s, char ret_monday[11]);

/* rep_is_date(s): true for "YYYY-MM-DD" (shape only; the database checks the rest). */
bool rep_is_date(const char *s);

/* rep_hmac_hex(mac, ret_hex): "\\x" + lowercase hex of an identity HMAC (67 bytes), for bytea. */
void rep_hmac_hex(const uint8_t mac[AM_IDENTITY_HMAC_LEN], char ret_hex[67]);

/*
 * rep_identity_hex(opts, identity, ret_hex): "\\x" + hex HMAC of the
 * normalised identity under the person key (67 bytes). Returns 0 or -1.
 */
int rep_identity_hex(const struct ctl_opts *opts, const char *identity, char ret_hex[67]);

/* The `report` subcommands of issue 7 (adoption, stalled, seats, budget, initiatives). */
bool rep_report_handles(const char *what);
int rep_report(int argc, char **argv);

int cmd_seats(int argc, char **argv);
/* `report actions` (issue 14, cmd-actions.c). */
int cmd_report_actions(int argc, char **argv);
int cmd_budget(int argc, char **argv);
int cmd_initiative(int argc, char **argv);
int cmd_month(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_person(int argc, char **argv);
int cmd_retention(int argc, char **argv);

#endif
