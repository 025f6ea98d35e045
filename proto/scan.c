/* scan.c: the wire pre-pass before protobuf-c unpacks a Batch; see scan.h. */
#include "scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Wire types (protobuf encoding): the only ones telemetry.proto uses. */
#define WT_VARINT 0
#define WT_LEN 2

/* What a field number may hold, per message; 0: no such field. */
enum kind { K_NONE, K_VARINT, K_STRING, K_BYTES, K_EVENT, K_ACTION };

/* Batch: 1 schema_version, 2-4 strings, 5 batch_id, 6 events, 7 spool_dropped_events,
 * 8 actions (schema version 2; batch.c refuses them in a version-1 batch). */
static const enum kind batch_fields[] = {
	K_NONE, K_VARINT, K_STRING, K_STRING, K_STRING, K_BYTES, K_EVENT, K_VARINT, K_ACTION,
};
static const char *const batch_names[] = {
	"", "schema_version", "device_id", "agent_version", "agent_os", "batch_id", "events",
	"spool_dropped_events", "actions",
};

/* UsageEvent: 1 event_id, 2 ts_ms, 3-8 strings, 9-16 numbers, 17-18 strings,
 * 19 request_id (schema version 3; batch.c refuses it in an older batch). */
static const enum kind event_fields[] = {
	K_NONE,	  K_BYTES,  K_VARINT, K_STRING, K_STRING, K_STRING, K_STRING,
	K_STRING, K_STRING, K_VARINT, K_VARINT, K_VARINT, K_VARINT, K_VARINT,
	K_VARINT, K_VARINT, K_VARINT, K_STRING, K_STRING, K_STRING,
};

/* ActionRecord: 1 action_id, 2 ts_ms, 3-7 strings, 8 kind, 9-10 strings,
 * 11 decision, 12-15 line counts, 16 file_ext, 17-19 numbers. */
static const enum kind action_fields[] = {
	K_NONE,	  K_BYTES,  K_VARINT, K_STRING, K_STRING, K_STRING, K_STRING,
	K_STRING, K_VARINT, K_STRING, K_STRING, K_VARINT, K_VARINT, K_VARINT,
	K_VARINT, K_VARINT, K_STRING, K_VARINT, K_VARINT, K_VARINT,
};

#define N_BATCH_FIELDS (sizeof(batch_fields) / sizeof(batch_fields[0]))
#define N_EVENT_FIELDS (sizeof(event_fields) / sizeof(event_fields[0]))
#define N_ACTION_FIELDS (sizeof(action_fields) / sizeof(action_fields[0]))

#define DEFAULT_MAX_EVENT_BYTES (64u << 10)

/* Outcome of reading one field header. */
enum step { STEP_OK, STEP_MORE, STEP_BAD };

static enum step
varint(const uint8_t *p, size_t len, size_t *i, uint64_t *ret)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 70; shift += 7) {
		if (*i >= len) {
			return STEP_MORE;
		}
		uint8_t b = p[(*i)++];
		if (shift == 63 && b > 1) {
			return STEP_BAD;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*ret = v;
			return STEP_OK;
		}
	}
	return STEP_BAD;
}

bool
am_control_character(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			return true;
		}
		/* U+0080..U+009F are C2 80..C2 9F in UTF-8. */
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
			return true;
		}
	}
	return false;
}

static size_t
max_fields(const struct am_batch_limits *lim)
{
	/* Every Batch field once, every record field once per event or action
	 * (both count against max_events). */
	return lim->max_fields != 0 ? lim->max_fields :
				      N_BATCH_FIELDS + lim->max_events * N_ACTION_FIELDS;
}

static size_t
max_event_bytes(const struct am_batch_limits *lim)
{
	return lim->max_event_bytes != 0 ? lim->max_event_bytes : DEFAULT_MAX_EVENT_BYTES;
}

void
am_scan_init(struct am_scan *s, const struct am_batch_limits *lim)
{
	memset(s, 0, sizeof(*s));
	s->lim = lim;
}

void
am_scan_finish(struct am_scan *s)
{
	free(s->faults);
	s->faults = NULL;
	free(s->action_faults);
	s->action_faults = NULL;
}

/* Record the first fault of record index in *list; later ones do not replace it. */
static int
event_fault(struct am_scan *s, uint8_t **list, size_t index, enum am_event_fault f,
	    struct am_batch_status *st)
{
	if (*list == NULL) {
		*list = calloc(s->lim->max_events ? s->lim->max_events : 1, 1);
		if (*list == NULL) {
			return am_batch_fail(st, AM_BATCH_NOMEM, "could not allocate the event fault list");
		}
	}
	if ((*list)[index] == AM_EVENT_OK) {
		(*list)[index] = (uint8_t)f;
	}
	return 0;
}

static int
count_field(struct am_scan *s, struct am_batch_status *st)
{
	if (++s->fields > max_fields(s->lim)) {
		return am_batch_fail(st, AM_BATCH_TOO_MANY_FIELDS,
			    "batch holds more than %zu protobuf fields; no valid batch has that many",
			    max_fields(s->lim));
	}
	return 0;
}

/* Read a field key; number and wire type must fit the message's table. */
static int
field_key(struct am_scan *s, const uint8_t *p, size_t len, size_t *i, const enum kind *table,
	  size_t n_table, const char *msg, uint32_t *ret_num, enum kind *ret_kind,
	  struct am_batch_status *st, bool *ret_more)
{
	uint64_t key = 0;
	enum step r = varint(p, len, i, &key);
	uint64_t num = key >> 3;
	unsigned wt = (unsigned)(key & 7);
	enum kind k;

	*ret_more = false;
	if (r == STEP_MORE) {
		*ret_more = true;
		return 0;
	}
	if (r == STEP_BAD || num == 0 || (wt != WT_VARINT && wt != WT_LEN && wt != 1 && wt != 5)) {
		return am_batch_fail(st, AM_BATCH_PROTOBUF, "%s: malformed protobuf field key at byte %zu",
			    msg, *i);
	}
	k = num < n_table ? table[num] : K_NONE;
	if (k == K_NONE) {
		return am_batch_fail(st, AM_BATCH_UNKNOWN_FIELD,
			    "%s: unknown field number %llu; this collector accepts only the "
			    "fields of schema_version %d",
			    msg, (unsigned long long)num, AM_SCHEMA_VERSION);
	}
	if ((k == K_VARINT) != (wt == WT_VARINT) || (k != K_VARINT && wt != WT_LEN)) {
		return am_batch_fail(st, AM_BATCH_PROTOBUF, "%s: field %llu has wire type %u, not its own",
			    msg, (unsigned long long)num, wt);
	}
	if (count_field(s, st) < 0) {
		return -1;
	}
	*ret_num = (uint32_t)num;
	*ret_kind = k;
	return 0;
}

/*
 * One complete UsageEvent or ActionRecord body (is_action): per-record
 * faults are recorded, not fatal.
 */
static int
scan_event(struct am_scan *s, bool is_action, size_t index, const uint8_t *p, size_t len,
	   struct am_batch_status *st)
{
	const enum kind *table = is_action ? action_fields : event_fields;
	size_t n_table = is_action ? N_ACTION_FIELDS : N_EVENT_FIELDS;
	uint8_t **list = is_action ? &s->action_faults : &s->faults;
	uint32_t seen = 0;
	size_t i = 0;
	char where[48];

	snprintf(where, sizeof(where), "%s %zu", is_action ? "action" : "event", index);
	while (i < len) {
		uint32_t num;
		enum kind k;
		uint64_t v = 0;
		bool more;

		if (field_key(s, p, len, &i, table, n_table, where, &num, &k, st, &more) < 0) {
			return -1;
		}
		if (more || varint(p, len, &i, &v) != STEP_OK) {
			return am_batch_fail(st, AM_BATCH_PROTOBUF, "%s: field cut short", where);
		}
		if ((seen & (1u << num)) != 0) {
			return am_batch_fail(st, AM_BATCH_DUPLICATE_FIELD, "%s: field %u appears twice", where,
				    num);
		}
		seen |= 1u << num;
		if (k == K_VARINT) {
			continue;
		}
		if (v > len - i) {
			return am_batch_fail(st, AM_BATCH_PROTOBUF, "%s: field %u runs past the event", where,
				    num);
		}
		if (k == K_STRING) {
			enum am_event_fault f = AM_EVENT_OK;
			if (v > s->lim->max_string) {
				f = AM_EVENT_STRING_TOO_LONG;
			} else if (am_control_character(p + i, (size_t)v)) {
				f = AM_EVENT_CONTROL_CHARACTER;
			}
			if (f != AM_EVENT_OK && event_fault(s, list, index, f, st) < 0) {
				return -1;
			}
		}
		i += (size_t)v;
	}
	return 0;
}

/* Check a Batch header string as soon as its bytes are in. */
static int
header_string(struct am_scan *s, uint32_t num, const uint8_t *p, size_t n,
	      struct am_batch_status *st)
{
	if (n > s->lim->max_string) {
		return am_batch_fail(st, AM_BATCH_STRING_TOO_LONG, "batch %s is %zu bytes, limit is %zu",
			    batch_names[num], n, s->lim->max_string);
	}
	if (am_control_character(p, n)) {
		return am_batch_fail(st, AM_BATCH_CONTROL_CHARACTER, "batch %s holds a control character",
			    batch_names[num]);
	}
	return 0;
}

int
am_scan_feed(struct am_scan *s, const uint8_t *p, size_t len, bool final,
	     struct am_batch_status *st)
{
	while (s->pos < len) {
		size_t i = s->pos;
		uint32_t num;
		enum kind k;
		uint64_t v = 0;
		bool more;
		size_t fields_before = s->fields;

		if (field_key(s, p, len, &i, batch_fields, N_BATCH_FIELDS, "batch", &num, &k, st,
			      &more) < 0) {
			return -1;
		}
		if (!more) {
			enum step r = varint(p, len, &i, &v);
			if (r == STEP_BAD) {
				return am_batch_fail(st, AM_BATCH_PROTOBUF,
					    "batch: malformed protobuf varint at byte %zu", i);
			}
			more = r == STEP_MORE;
		}
		if (more) {
			/* Read again when more bytes are in; do not count it twice. */
			s->fields = fields_before;
			break;
		}
		bool record = k == K_EVENT || k == K_ACTION;
		size_t *count = k == K_ACTION ? &s->actions : &s->events;

		if (!record && (s->seen & (1u << num)) != 0) {
			return am_batch_fail(st, AM_BATCH_DUPLICATE_FIELD, "batch: field %s appears twice",
				    batch_names[num]);
		}
		if (k == K_VARINT) {
			s->seen |= 1u << num;
			s->pos = i;
			continue;
		}
		/* Limits on the declared length hold before its bytes arrive. */
		if (record && v > max_event_bytes(s->lim)) {
			return am_batch_fail(st, AM_BATCH_EVENT_TOO_LARGE,
				    "%s %zu is %llu bytes, limit is %zu", k == K_ACTION ? "action" : "event", *count,
				    (unsigned long long)v, max_event_bytes(s->lim));
		}
		if (k == K_STRING && v > s->lim->max_string) {
			return am_batch_fail(st, AM_BATCH_STRING_TOO_LONG, "batch %s is %llu bytes, limit is %zu",
				    batch_names[num], (unsigned long long)v, s->lim->max_string);
		}
		if (record && s->events + s->actions >= s->lim->max_events) {
			return am_batch_fail(st, AM_BATCH_TOO_MANY_EVENTS,
				    "batch holds more than %zu events and actions; split it",
				    s->lim->max_events);
		}
		if (v > len - i) {
			s->fields = fields_before;
			break;
		}
		if (record) {
			if (scan_event(s, k == K_ACTION, *count, p + i, (size_t)v, st) < 0) {
				return -1;
			}
			(*count)++;
		} else {
			s->seen |= 1u << num;
			if (k == K_STRING && header_string(s, num, p + i, (size_t)v, st) < 0) {
				return -1;
			}
		}
		s->pos = i + (size_t)v;
	}
	if (final && s->pos != len) {
		return am_batch_fail(st, AM_BATCH_PROTOBUF,
			    "decompressed body (%zu bytes) ends inside a protobuf field", len);
	}
	return 0;
}
