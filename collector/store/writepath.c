/* writepath.c: COPY rows for the write path; see writepath.h. */
#include "writepath.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
writepath_buf_init(struct writepath_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
writepath_buf_reset(struct writepath_buf *b)
{
	b->len = 0;
	if (b->data != NULL) {
		b->data[0] = '\0';
	}
}

void
writepath_buf_finish(struct writepath_buf *b)
{
	if (b == NULL) {
		return;
	}
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int
reserve(struct writepath_buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (extra > b->max || b->len + extra + 1 > b->max) {
		return -ENOBUFS;
	}
	want = b->len + extra + 1;
	if (want <= b->cap) {
		return 0;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap < want) {
		cap *= 2;
	}
	if (cap > b->max) {
		cap = b->max;
	}
	p = realloc(b->data, cap);
	if (p == NULL) {
		return -ENOMEM;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

/* The append helpers below write into room reserved for the whole row. */
static void
put(struct writepath_buf *b, const char *s, size_t n)
{
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
put_str(struct writepath_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
put_hex(struct writepath_buf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	/* bytea hex input "\x..."; the backslash itself is escaped for COPY. */
	put(b, "\\\\x", 3);
	for (size_t i = 0; i < n; i++) {
		char two[2] = { hex[p[i] >> 4], hex[p[i] & 15] };
		put(b, two, 2);
	}
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80) {
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n) {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		return 0;
	}
	return len;
}

/* Room a string needs at worst: every byte escaped as two. */
static size_t
str_room(const char *s)
{
	return s != NULL ? 2 * strlen(s) : 2;
}

static void
put_text(struct writepath_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t n = strlen((const char *)p);

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);

		if (k == 0) {
			put(b, "?", 1);
			i++;
			continue;
		}
		if (k == 1) {
			switch (p[i]) {
			case '\\':
				put(b, "\\\\", 2);
				break;
			case '\n':
				put(b, "\\n", 2);
				break;
			case '\r':
				put(b, "\\r", 2);
				break;
			case '\t':
				put(b, "\\t", 2);
				break;
			default:
				put(b, (const char *)p + i, 1);
			}
		} else {
			put(b, (const char *)p + i, k);
		}
		i += k;
	}
}

static void
put_count(struct writepath_buf *b, uint64_t v)
{
	char num[32];

	if (v > (uint64_t)INT64_MAX) {
		put(b, "-1", 2);
		return;
	}
	snprintf(num, sizeof(num), "%" PRIu64, v);
	put_str(b, num);
}

static bool
is_uuid(const char *s)
{
	if (s == NULL || strlen(s) != 36) {
		return false;
	}
	for (int i = 0; i < 36; i++) {
		bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
		char c = s[i];

		if (dash ? c != '-' :
			   !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

const char *
writepath_billing_mode(int mode)
{
	switch (mode) {
	case 1:
		return "subscription";
	case 2:
		return "api";
	case 3:
		return "cloud";
	default:
		return "unknown";
	}
}

int
writepath_format_batch(struct writepath_buf *b, int batch_idx, const char *device_id,
		       const uint8_t *batch_id, size_t batch_id_len, uint64_t events_sent,
		       uint64_t spool_dropped)
{
	char num[32];
	int rc = reserve(b, 160 + 2 * batch_id_len);

	if (rc < 0) {
		return rc;
	}
	snprintf(num, sizeof(num), "%d\t", batch_idx);
	put_str(b, num);
	if (is_uuid(device_id)) {
		put_str(b, device_id);
	} else {
		put(b, "\\N", 2);
	}
	put(b, "\t", 1);
	if (batch_id != NULL) {
		put_hex(b, batch_id, batch_id_len);
	} else {
		put(b, "\\N", 2);
	}
	put(b, "\t", 1);
	/* events_sent is an int column: the decoder caps events far below. */
	snprintf(num, sizeof(num), "%" PRIu64 "\t", events_sent > INT32_MAX ? INT32_MAX : events_sent);
	put_str(b, num);
	put_count(b, spool_dropped);
	put(b, "\n", 1);
	return 0;
}

static void
put_ts(struct writepath_buf *b, int64_t ts_ms)
{
	char out[64];
	struct tm tm;
	time_t secs;
	int64_t ms = ts_ms % 1000;

	secs = (time_t)((ts_ms - ms) / 1000);
	if (ms < 0) {
		ms += 1000;
		secs -= 1;
	}
	if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) {
		put(b, "\\N", 2);
		return;
	}
	snprintf(out, sizeof(out), "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
	put_str(b, out);
}

int
writepath_format_event(struct writepath_buf *b, int batch_idx, int ord, const am_usage_event *ev,
		       const uint8_t *identity_hmac, const char *team_hint,
		       const char *reject_reason)
{
	const char *hint = team_hint != NULL ? team_hint : ev->team_hint;
	char num[32];
	size_t room = 512 + 2 * ev->event_id.len + str_room(ev->tool) + str_room(ev->model) +
		      str_room(ev->session) + str_room(ev->project) + str_room(hint) +
		      str_room(ev->speed) + str_room(ev->service_tier) + str_room(reject_reason);
	int rc = reserve(b, room);
	const uint64_t counts[] = { ev->input_tokens,	      ev->output_tokens,
				    ev->cache_write_5m_tokens, ev->cache_write_1h_tokens,
				    ev->cache_read_tokens,     ev->reasoning_tokens,
				    ev->web_search_requests };

	if (rc < 0) {
		return rc;
	}
	snprintf(num, sizeof(num), "%d\t%d\t", batch_idx, ord);
	put_str(b, num);
	if (ev->event_id.len > 0) {
		put_hex(b, ev->event_id.data, ev->event_id.len);
	} else {
		put(b, "\\N", 2);
	}
	put(b, "\t", 1);
	put_ts(b, ev->ts_ms);
	put(b, "\t", 1);
	put_text(b, ev->tool);
	put(b, "\t", 1);
	put_text(b, ev->model);
	put(b, "\t", 1);
	put_text(b, ev->session);
	put(b, "\t", 1);
	put_text(b, ev->project);
	put(b, "\t", 1);
	if (identity_hmac != NULL) {
		put_hex(b, identity_hmac, 32);
	} else {
		put(b, "\\N", 2);
	}
	put(b, "\t", 1);
	put_text(b, hint);
	put(b, "\t", 1);
	put_str(b, writepath_billing_mode((int)ev->billing_mode));
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		put(b, "\t", 1);
		put_count(b, counts[i]);
	}
	put(b, "\t", 1);
	put_text(b, ev->speed);
	put(b, "\t", 1);
	put_text(b, ev->service_tier);
	put(b, "\t", 1);
	if (reject_reason != NULL && reject_reason[0] != '\0') {
		put_text(b, reject_reason);
	} else {
		put(b, "\\N", 2);
	}
	put(b, "\n", 1);
	return 0;
}

int
writepath_format_request(struct writepath_buf *b, int batch_idx, int ord, const char *request_id)
{
	char num[32];
	int rc = reserve(b, 64 + str_room(request_id));

	if (rc < 0) {
		return rc;
	}
	snprintf(num, sizeof(num), "%d\t%d\t", batch_idx, ord);
	put_str(b, num);
	put_text(b, request_id);
	put(b, "\n", 1);
	return 0;
}
