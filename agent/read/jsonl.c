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

/* The action line through the JSON writer: the way for strings it must escape. */
static void
write_action_jw(struct jsonl *j, const struct action_rec *a, const char *hex, const char *ts,
		const char *user)
{
	char line[1024];
	struct jw w;

	jw_init(&w, line, sizeof(line), JSONL_LINE_MAX);
	jw_object_begin(&w);
	jw_key(&w, "record");
	jw_string(&w, "action");
	jw_key(&w, "action_id");
	jw_string(&w, hex);
	jw_key(&w, "tool");
	jw_string(&w, event_tool_name(a->tool));
	jw_key(&w, "ts");
	jw_string(&w, ts);
	jw_key(&w, "session");
	jw_string(&w, a->session);
	jw_key(&w, "project");
	jw_string(&w, a->project);
	jw_key(&w, "user");
	jw_string(&w, user);
	jw_key(&w, "kind");
	jw_string(&w, action_kind_name(a->kind));
	jw_key(&w, "tool_name");
	jw_string(&w, a->tool_name);
	jw_key(&w, "target");
	jw_string(&w, a->target);
	jw_key(&w, "decision");
	jw_string(&w, action_decision_name(a->decision));
	jw_key(&w, "lines_added");
	jw_uint(&w, a->lines_added);
	jw_key(&w, "lines_removed");
	jw_uint(&w, a->lines_removed);
	jw_key(&w, "proposed_lines_added");
	jw_uint(&w, a->proposed_added);
	jw_key(&w, "proposed_lines_removed");
	jw_uint(&w, a->proposed_removed);
	jw_key(&w, "file_ext");
	jw_string(&w, a->file_ext);
	jw_key(&w, "commits");
	jw_uint(&w, a->commit);
	jw_key(&w, "pull_requests");
	jw_uint(&w, a->pull_request);
	jw_key(&w, "in_subagent");
	jw_bool(&w, a->in_subagent);
	jw_end(&w);
	if (jw_error(&w) == 0) {
		(void)fwrite(jw_data(&w), 1, jw_len(&w), j->f); /* errors stay on f: callers check fflush */
		(void)putc('\n', j->f);
	}
	jw_finish(&w);
}

/* A line being put together by hand; full when what is added would not fit. */
struct hand {
	char buf[1024];
	size_t n;
	bool full;
};

static void
hand_put(struct hand *h, const char *p, size_t n)
{
	if (h->full || n > sizeof(h->buf) - h->n) {
		h->full = true;
		return;
	}
	memcpy(h->buf + h->n, p, n);
	h->n += n;
}

#define HAND_LIT(h, lit) hand_put((h), (lit), sizeof(lit) - 1)

/* A byte json-writer copies as it is (its plain()); NUL is not one. */
static bool
plain_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* A string the writer would copy as it is (no byte to escape or check), quoted; else full. */
static void
hand_str(struct hand *h, const char *s)
{
	size_t n = 0;

	/* ends at the NUL, or at a byte the writer would escape or check (UTF-8) */
	while (plain_byte((unsigned char)s[n])) {
		n++;
	}
	if (s[n] != '\0') {
		h->full = true; /* the writer's way: escapes and UTF-8 checks */
		return;
	}
	HAND_LIT(h, "\"");
	hand_put(h, s, n);
	HAND_LIT(h, "\"");
}

/* A string known to hold only plain bytes (hex digits, a formatted time, a fixed name), quoted. */
static void
hand_known(struct hand *h, const char *s)
{
	HAND_LIT(h, "\"");
	hand_put(h, s, strlen(s));
	HAND_LIT(h, "\"");
}

static void
hand_uint(struct hand *h, uint64_t v)
{
	char d[20];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	hand_put(h, d + i, sizeof(d) - i);
}

void
jsonl_write_action(struct jsonl *j, const struct scan *s, const struct action_rec *a)
{
	char hex[33], ts[32];
	const char *user = a->origin < s->n_origins ? s->origins[a->origin].user : "";
	struct hand h;

	am_event_id_hex(a->id, hex);
	ts_format(j, a->ts_ms, ts);
	/* Put together by hand, byte for byte what the writer makes: through
	 * the writer these lines were a fifth of what actions add to a scan.
	 * A string with a byte to escape or check takes the writer's way. */
	h.n = 0;
	h.full = false;
	HAND_LIT(&h, "{\"record\":\"action\",\"action_id\":");
	hand_known(&h, hex);
	HAND_LIT(&h, ",\"tool\":");
	hand_known(&h, event_tool_name(a->tool));
	HAND_LIT(&h, ",\"ts\":");
	hand_str(&h, ts);
	HAND_LIT(&h, ",\"session\":");
	hand_str(&h, a->session);
	HAND_LIT(&h, ",\"project\":");
	hand_str(&h, a->project);
	HAND_LIT(&h, ",\"user\":");
	hand_str(&h, user);
	HAND_LIT(&h, ",\"kind\":");
	hand_known(&h, action_kind_name(a->kind));
	HAND_LIT(&h, ",\"tool_name\":");
	hand_str(&h, a->tool_name);
	HAND_LIT(&h, ",\"target\":");
	hand_str(&h, a->target);
	HAND_LIT(&h, ",\"decision\":");
	hand_known(&h, action_decision_name(a->decision));
	HAND_LIT(&h, ",\"lines_added\":");
	hand_uint(&h, a->lines_added);
	HAND_LIT(&h, ",\"lines_removed\":");
	hand_uint(&h, a->lines_removed);
	HAND_LIT(&h, ",\"proposed_lines_added\":");
	hand_uint(&h, a->proposed_added);
	HAND_LIT(&h, ",\"proposed_lines_removed\":");
	hand_uint(&h, a->proposed_removed);
	HAND_LIT(&h, ",\"file_ext\":");
	hand_str(&h, a->file_ext);
	HAND_LIT(&h, ",\"commits\":");
	hand_uint(&h, a->commit);
	HAND_LIT(&h, ",\"pull_requests\":");
	hand_uint(&h, a->pull_request);
	HAND_LIT(&h, ",\"in_subagent\":");
	if (a->in_subagent) {
		HAND_LIT(&h, "true}\n");
	} else {
		HAND_LIT(&h, "false}\n");
	}
	if (h.full) {
		write_action_jw(j, a, hex, ts, user);
		return;
	}
	(void)fwrite(h.buf, 1, h.n, j->f); /* errors stay on f: callers check fflush */
}
