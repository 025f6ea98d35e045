/* event.c: tool and bucket names, UTC times; see event.h. */
#include "event.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "source.h"
#include "timestamp.h"

const char *
event_tool_name(enum event_tool tool)
{
	const struct source_ops *src = source_get(tool);

	return src != NULL ? src->name : "unknown";
}

const char *
event_billing_name(enum event_billing b)
{
	static const char *const names[EVENT_BILLING_MAX] = {"unknown", "subscription", "api",
							     "cloud"};

	return (unsigned)b < EVENT_BILLING_MAX ? names[b] : "unknown";
}

const char *
event_bucket_field(enum event_bucket b)
{
	static const char *const names[EVENT_BUCKET_MAX] = {
		"input_tokens",      "output_tokens",    "cache_write_5m_tokens",
		"cache_write_1h_tokens", "cache_read_tokens", "reasoning_tokens",
		"web_search_requests",
	};
	return (unsigned)b < EVENT_BUCKET_MAX ? names[b] : "unknown";
}

int64_t
event_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	return ts_days_from_civil(y, m, d);
}

static void
civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*ret_y = y + (m <= 2);
	*ret_m = m;
	*ret_d = d;
}

int
event_ts_parse(const char *s, int64_t *ret_ms)
{
	return ts_parse_ms(s, ret_ms);
}

void
event_ts_format(int64_t ms, char ret_buf[32])
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400, y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	char tmp[96];
	size_t n;

	snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", (int)(y % 1000000),
		 (unsigned char)m, (unsigned char)d, (unsigned char)(rem / 3600),
		 (unsigned char)(rem / 60 % 60), (unsigned char)(rem % 60),
		 (unsigned short)(ms - secs * 1000));
	n = strlen(tmp);
	n = n < 31 ? n : 31;
	memcpy(ret_buf, tmp, n);
	ret_buf[n] = '\0';
}

bool
event_plausible(int64_t ts_ms, const uint64_t tok[EVENT_BUCKET_MAX])
{
	if (ts_ms < EVENT_TS_MIN_MS || ts_ms >= EVENT_TS_MAX_MS) {
		return false;
	}
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		if (tok[b] > EVENT_TOKENS_MAX) {
			return false;
		}
	}
	return true;
}

const char *
event_printable(const char *s, char *ret_buf, size_t size)
{
	size_t n = 0;

	if (size == 0) {
		return ret_buf;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && n + 1 < size; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			ret_buf[n++] = '?';
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			ret_buf[n++] = '?'; /* U+0080..U+009F, the C1 controls */
			p++;
		} else {
			ret_buf[n++] = (char)*p;
		}
	}
	ret_buf[n] = '\0';
	return ret_buf;
}
