/*
 * report.h: the local report for the person at the keyboard: usage per day,
 * month or session with an estimated cost from the price book (price.h).
 *
 * Figures are list-price estimates. Usage under a subscription priced at API
 * rates is an API-equivalent value, not spend: it is shown in its own
 * column. Events of models the book does not know are counted as unpriced
 * and never add $0 to a cost. Days and months are in the zone given (IANA
 * name), else the local zone.
 */
#ifndef AM_AGENT_REPORT_H
#define AM_AGENT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "price.h"
#include "scan.h"

enum report_kind { REPORT_DAILY, REPORT_MONTHLY, REPORT_SESSION, REPORT_KIND_MAX };

/* report_kind_parse(s, ret): "daily", "monthly", "session". 0 or -EINVAL. */
int report_kind_parse(const char *s, enum report_kind *ret);

/*
 * report_print(s, book, kind, tz, json, out): aggregate s's settled events
 * and print the table (or one JSON document). tz may be NULL (local zone).
 * Returns 0, -EINVAL for an unknown zone, or -ENOMEM / -ENOBUFS when a row
 * of JSON does not fit in memory or its 1 MiB maximum.
 */
int report_print(const struct scan *s, const struct price_book *book, enum report_kind kind,
		 const char *tz, bool json, FILE *out);

#endif
