/* timestamp.h: parsing times. Returns 0 or -errno (see macros.h). */
#ifndef AM_COMMON_TIMESTAMP_H
#define AM_COMMON_TIMESTAMP_H

#include <stdint.h>

/* ts_days_from_civil(y, m, d): days since 1970-01-01 (proleptic Gregorian). */
int64_t ts_days_from_civil(int64_t y, unsigned m, unsigned d);

/*
 * ts_parse_ms(s, ret_ms): an RFC 3339 time ("2026-09-14T16:02:11.204Z",
 * fraction and offset optional) to milliseconds since the epoch (UTC).
 * Returns 0 or -EINVAL.
 */
int ts_parse_ms(const char *s, int64_t *ret_ms);

#endif
