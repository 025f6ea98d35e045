/* timestamp.c: RFC 3339 text to milliseconds, without the C library's
 * locale- and TZ-dependent calls. Moved from agent/event.c; collector/ctl
 * used a sscanf/timegm copy. */
#include "timestamp.h"

#include <errno.h>
#include <string.h>

/* Howard Hinnant's days_from_civil. */
int64_t
ts_days_from_civil(int64_t y, unsigned m, unsigned d)
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
ts_parse_ms(const char *s, int64_t *ret_ms)
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
	t = ts_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off_min * 60;
	*ret_ms = t * 1000 + ms;
	return 0;
}
