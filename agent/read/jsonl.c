/* jsonl.c: an event as a line of `scan --format jsonl`; see jsonl.h. */
#include "jsonl.h"

#include <string.h>

#include "event_id.h"

/* A small output buffer: one fwrite per event instead of a call per byte. */
struct out {
	FILE *f;
	size_t n;
	char b[2048];
};

static void
out_flush(struct out *o)
{
	if (o->n > 0) {
		(void)fwrite(o->b, 1, o->n, o->f); /* errors stay on f: callers check fflush */
		o->n = 0;
	}
}

static void
out_put(struct out *o, const char *s, size_t n)
{
	if (n > sizeof(o->b) - o->n) {
		out_flush(o);
		if (n > sizeof(o->b)) {
			(void)fwrite(s, 1, n, o->f);
			return;
		}
	}
	memcpy(o->b + o->n, s, n);
	o->n += n;
}

#define OUT_LIT(o, lit) out_put((o), (lit), sizeof(lit) - 1)

/* s as a JSON string literal, escaped as event_json_string does. */
static void
out_json_string(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	OUT_LIT(o, "\"");
	for (const char *p = s;; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[6];
		size_t n = 2;
		if (c >= 0x20 && c != '"' && c != '\\') {
			continue;
		}
		out_put(o, run, (size_t)(p - run));
		if (c == '\0') {
			break;
		}
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		out_put(o, esc, n);
		run = p + 1;
	}
	OUT_LIT(o, "\"");
}

static void
out_u32(struct out *o, uint32_t v)
{
	char d[10];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	out_put(o, d + i, sizeof(d) - i);
}

/*
 * event_ts_format, with the date cached: events are mostly written in time
 * order, so the day rarely changes between two of them.
 */
static void
ts_format(int64_t ms, char ret[32])
{
	static int64_t day = INT64_MIN;
	static char date[32];
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t d = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - d * 86400;
	unsigned msec = (unsigned)(ms - secs * 1000);

	if (d != day) {
		event_ts_format(d * 86400000, date);
		if (strlen(date) != 24) {
			day = INT64_MIN; /* a year outside 0..9999: the slow way */
			event_ts_format(ms, ret);
			return;
		}
		day = d;
	}
	memcpy(ret, date, 11); /* "YYYY-MM-DDT" */
	ret[11] = (char)('0' + rem / 36000);
	ret[12] = (char)('0' + rem / 3600 % 10);
	ret[13] = ':';
	ret[14] = (char)('0' + rem / 600 % 6);
	ret[15] = (char)('0' + rem / 60 % 10);
	ret[16] = ':';
	ret[17] = (char)('0' + rem % 60 / 10);
	ret[18] = (char)('0' + rem % 10);
	ret[19] = '.';
	ret[20] = (char)('0' + msec / 100);
	ret[21] = (char)('0' + msec / 10 % 10);
	ret[22] = (char)('0' + msec % 10);
	ret[23] = 'Z';
	ret[24] = '\0';
}

void
jsonl_write_event(const struct scan *s, const struct ledger_rec *r, const char *team_hint, FILE *f)
{
	const struct ledger *l = &s->ledger;
	struct out o;
	char hex[33], ts[32];

	o.f = f;
	o.n = 0;
	am_event_id_hex(r->id, hex);
	ts_format(r->ts_ms, ts);
	OUT_LIT(&o, "{\"event_id\":\"");
	out_put(&o, hex, 32);
	OUT_LIT(&o, "\",\"tool\":\"");
	out_put(&o, event_tool_name((enum event_tool)r->tool),
		strlen(event_tool_name((enum event_tool)r->tool)));
	OUT_LIT(&o, "\",\"ts\":\"");
	out_put(&o, ts, strlen(ts));
	OUT_LIT(&o, "\",\"model\":");
	out_json_string(&o, ledger_str(l, r->model));
	OUT_LIT(&o, ",\"session\":");
	out_json_string(&o, ledger_str(l, r->session));
	OUT_LIT(&o, ",\"project\":");
	out_json_string(&o, ledger_str(l, r->project));
	OUT_LIT(&o, ",\"user\":");
	out_json_string(&o, s->origins[r->origin].user);
	OUT_LIT(&o, ",\"team_hint\":");
	out_json_string(&o, team_hint != NULL ? team_hint : "");
	OUT_LIT(&o, ",\"billing_mode\":");
	out_json_string(&o, event_billing_name(s->origins[r->origin].billing));
	OUT_LIT(&o, ",\"speed\":");
	out_json_string(&o, ledger_str(l, r->speed));
	OUT_LIT(&o, ",\"service_tier\":");
	out_json_string(&o, ledger_str(l, r->tier));
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		const char *name = event_bucket_field((enum event_bucket)b);
		OUT_LIT(&o, ",\"");
		out_put(&o, name, strlen(name));
		OUT_LIT(&o, "\":");
		out_u32(&o, r->tok[b]);
	}
	OUT_LIT(&o, "}\n");
	out_flush(&o);
}

