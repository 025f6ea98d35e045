/* event.c: tool and bucket names, UTC times, JSON string output; see event.h. */
#include "event.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

const char *
event_tool_name(enum event_tool tool)
{
	switch (tool) {
	case EVENT_TOOL_CLAUDE:
		return "claude-code";
	case EVENT_TOOL_CODEX:
		return "codex";
	default:
		return "unknown";
	}
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

/* Howard Hinnant's days_from_civil. */
int64_t
event_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
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

static int
digits(const char *s, int n, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

int
event_ts_parse(const char *s, int64_t *ret_ms)
{
	unsigned y, mo, d, h, mi, se, ms = 0;
	const char *p;
	int64_t off_min = 0, t;

	if (strlen(s) < 19 || digits(s, 4, &y) < 0 || s[4] != '-' || digits(s + 5, 2, &mo) < 0 ||
	    s[7] != '-' || digits(s + 8, 2, &d) < 0 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) < 0 || s[13] != ':' || digits(s + 14, 2, &mi) < 0 ||
	    s[16] != ':' || digits(s + 17, 2, &se) < 0) {
		return -EINVAL;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
		return -EINVAL;
	}
	p = s + 19;
	if (*p == '.') {
		int n = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (n < 3) {
				ms = ms * 10 + (unsigned)(*p - '0');
			}
			n++;
			p++;
		}
		if (n == 0) {
			return -EINVAL;
		}
		for (; n < 3; n++) {
			ms *= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		unsigned oh, om;
		if (digits(p + 1, 2, &oh) < 0 || p[3] != ':' || digits(p + 4, 2, &om) < 0) {
			return -EINVAL;
		}
		off_min = (int64_t)(oh * 60 + om) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p != '\0') {
		return -EINVAL;
	}
	t = event_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off_min * 60;
	*ret_ms = t * 1000 + ms;
	return 0;
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

void
event_json_string(FILE *f, const char *s)
{
	putc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20) {
				fprintf(f, "\\u%04x", *p);
			} else {
				putc(*p, f);
			}
		}
	}
	putc('"', f);
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
