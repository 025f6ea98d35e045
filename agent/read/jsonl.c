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

/* One field of an action line: a string (checked, or known plain) or a count. */
struct field {
	enum { F_STR, F_KNOWN, F_UINT } type;
	const char *str;
	uint64_t num;
};

#define ACTION_FIELDS 18
#define KEY(k) {k, "\"" k "\":", sizeof("\"" k "\":") - 1}

/* The keys of an action line, in the order docs/actions.md gives them, and as written. */
static const struct {
	const char *name, *quoted;
	size_t quoted_len;
} action_keys[ACTION_FIELDS] = {
	KEY("record"),      KEY("action_id"),     KEY("tool"),
	KEY("ts"),          KEY("session"),       KEY("project"),
	KEY("user"),        KEY("kind"),          KEY("tool_name"),
	KEY("target"),      KEY("decision"),      KEY("lines_added"),
	KEY("lines_removed"), KEY("proposed_lines_added"), KEY("proposed_lines_removed"),
	KEY("file_ext"),    KEY("commits"),       KEY("pull_requests"),
};

static void
set_str(struct field *f, bool known, const char *s)
{
	f->type = known ? F_KNOWN : F_STR;
	f->str = s;
}

static void
set_num(struct field *f, uint64_t v)
{
	f->type = F_UINT;
	f->num = v;
}

/* The values of a's line, in action_keys' order. */
static void
action_fields(const struct action_rec *a, const char *hex, const char *ts, const char *user,
	      struct field f[ACTION_FIELDS])
{
	set_str(&f[0], true, "action");
	set_str(&f[1], true, hex);
	set_str(&f[2], true, event_tool_name(a->tool));
	set_str(&f[3], false, ts);
	set_str(&f[4], false, a->session);
	set_str(&f[5], false, a->project);
	set_str(&f[6], false, user);
	set_str(&f[7], true, action_kind_name(a->kind));
	set_str(&f[8], false, a->tool_name);
	set_str(&f[9], false, a->target);
	set_str(&f[10], true, action_decision_name(a->decision));
	set_num(&f[11], a->lines_added);
	set_num(&f[12], a->lines_removed);
	set_num(&f[13], a->proposed_added);
	set_num(&f[14], a->proposed_removed);
	set_str(&f[15], false, a->file_ext);
	set_num(&f[16], a->commit);
	set_num(&f[17], a->pull_request);
}

/* The line through the JSON writer: the way for strings it must escape or check. */
static void
write_fields_jw(struct jsonl *j, const struct field *f, size_t n, bool in_subagent)
{
	char line[1024];
	struct jw w;

	jw_init(&w, line, sizeof(line), JSONL_LINE_MAX);
	jw_object_begin(&w);
	for (size_t i = 0; i < n; i++) {
		jw_key(&w, action_keys[i].name);
		if (f[i].type == F_UINT) {
			jw_uint(&w, f[i].num);
		} else {
			jw_string(&w, f[i].str);
		}
	}
	jw_key(&w, "in_subagent");
	jw_bool(&w, in_subagent);
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

/*
 * A string quoted, when the writer would copy it as it is: known plain,
 * or checked here. Else the line is marked full (the writer's way).
 */
static void
hand_str(struct hand *h, const char *s, bool known)
{
	size_t n = 0;

	if (known) {
		n = strlen(s);
	} else {
		/* ends at the NUL, or at a byte the writer would escape or check (UTF-8) */
		while (plain_byte((unsigned char)s[n])) {
			n++;
		}
		if (s[n] != '\0') {
			h->full = true;
			return;
		}
	}
	HAND_LIT(h, "\"");
	hand_put(h, s, n);
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
	struct field f[ACTION_FIELDS];
	struct hand h;

	am_event_id_hex(a->id, hex);
	ts_format(j, a->ts_ms, ts);
	action_fields(a, hex, ts, user, f);
	/* Put together by hand, byte for byte what the writer makes: through
	 * the writer these lines were a fifth of what actions add to a scan.
	 * A string with a byte to escape or check takes the writer's way. */
	h.n = 0;
	h.full = false;
	HAND_LIT(&h, "{");
	for (size_t i = 0; i < ACTION_FIELDS && !h.full; i++) {
		if (i > 0) {
			HAND_LIT(&h, ",");
		}
		hand_put(&h, action_keys[i].quoted, action_keys[i].quoted_len); /* keys are plain */
		if (f[i].type == F_UINT) {
			hand_uint(&h, f[i].num);
		} else {
			hand_str(&h, f[i].str, f[i].type == F_KNOWN);
		}
	}
	if (a->in_subagent) {
		HAND_LIT(&h, ",\"in_subagent\":true}\n");
	} else {
		HAND_LIT(&h, ",\"in_subagent\":false}\n");
	}
	if (h.full) {
		write_fields_jw(j, f, ACTION_FIELDS, a->in_subagent);
		return;
	}
	(void)fwrite(h.buf, 1, h.n, j->f); /* errors stay on f: callers check fflush */
}
