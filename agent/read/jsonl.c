/* jsonl.c: an event as a line of `scan --format jsonl`; see jsonl.h. */
#include "jsonl.h"

#include <string.h>

#include "event_id.h"
#include "json-writer.h"

void
jsonl_init(struct jsonl *j, FILE *f, const char *team_hint)
{
	j->f = f;
	j->team_hint = team_hint != NULL ? team_hint : "";
	j->day = INT64_MIN;
	j->date[0] = '\0';
}

/* event_ts_format, with the date of the day cached in j. */
static void
ts_format(struct jsonl *j, int64_t ms, char ret[32])
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t d = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - d * 86400;
	unsigned msec = (unsigned)(ms - secs * 1000);

	if (d != j->day) {
		char date[32];
		event_ts_format(d * 86400000, date);
		if (strlen(date) != 24) {
			j->day = INT64_MIN; /* a year outside 0..9999: the slow way */
			event_ts_format(ms, ret);
			return;
		}
		memcpy(j->date, date, 11);
		j->date[11] = '\0';
		j->day = d;
	}
	memcpy(ret, j->date, 11); /* "YYYY-MM-DDT" */
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

/* A line longer than this (strings of 100 KiB) is not an event worth printing. */
#define JSONL_LINE_MAX (1u << 20)

void
jsonl_write_event(struct jsonl *j, const struct scan *s, const struct ledger_rec *r)
{
	const struct ledger *l = &s->ledger;
	char line[2048], hex[33], ts[32];
	struct jw w;

	am_event_id_hex(r->id, hex);
	ts_format(j, r->ts_ms, ts);
	/* the stack holds a usual line: one fwrite per event and no allocation */
	jw_init(&w, line, sizeof(line), JSONL_LINE_MAX);
	jw_object_begin(&w);
	jw_key(&w, "record"); /* beside action records (docs/actions.md) */
	jw_string(&w, "usage");
	jw_key(&w, "event_id");
	jw_string(&w, hex);
	jw_key(&w, "tool");
	jw_string(&w, event_tool_name((enum event_tool)r->tool));
	jw_key(&w, "ts");
	jw_string(&w, ts);
	jw_key(&w, "model");
	jw_string(&w, ledger_str(l, r->model));
	jw_key(&w, "session");
	jw_string(&w, ledger_str(l, r->session));
	jw_key(&w, "project");
	jw_string(&w, ledger_str(l, r->project));
	jw_key(&w, "user");
	jw_string(&w, s->origins[r->origin].user);
	jw_key(&w, "team_hint");
	jw_string(&w, j->team_hint);
	jw_key(&w, "billing_mode");
	jw_string(&w, event_billing_name(s->origins[r->origin].billing));
	jw_key(&w, "speed");
	jw_string(&w, ledger_str(l, r->speed));
	jw_key(&w, "service_tier");
	jw_string(&w, ledger_str(l, r->tier));
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		jw_key(&w, event_bucket_field((enum event_bucket)b));
		jw_uint(&w, r->tok[b]);
	}
	jw_end(&w);
	/* errors are sticky: a line is printed whole or (out of memory) not at all */
	if (jw_error(&w) == 0) {
		/* errors stay on the stream: callers check fflush */
		(void)fwrite(jw_data(&w), 1, jw_len(&w), j->f);
		(void)putc('\n', j->f);
	}
	jw_finish(&w);
}
