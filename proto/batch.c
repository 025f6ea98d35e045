/* batch.c: wire batch encode and bounded decode; see batch.h and DESIGN.md. */
#include "batch.h"
#include "scan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>
#include <zstd_errors.h>

const struct am_batch_limits am_batch_default_limits = {
	.max_compressed = 4u << 20,
	.max_decompressed = 32u << 20,
	.max_events = 10000,
	.max_string = 256,
	.max_window_log = 23,
};

static const char *const error_names[AM_BATCH_ERROR_MAX] = {
	[AM_BATCH_OK] = "ok",
	[AM_BATCH_EMPTY] = "empty_body",
	[AM_BATCH_COMPRESSED_TOO_LARGE] = "compressed_too_large",
	[AM_BATCH_NOT_ZSTD] = "not_zstd",
	[AM_BATCH_ZSTD_TRUNCATED] = "zstd_truncated",
	[AM_BATCH_ZSTD_CORRUPT] = "zstd_corrupt",
	[AM_BATCH_ZSTD_WINDOW] = "zstd_window_too_large",
	[AM_BATCH_TRAILING_DATA] = "trailing_data",
	[AM_BATCH_DECOMPRESSED_TOO_LARGE] = "decompressed_too_large",
	[AM_BATCH_PROTOBUF] = "protobuf_invalid",
	[AM_BATCH_SCHEMA_VERSION] = "unsupported_schema_version",
	[AM_BATCH_TOO_MANY_EVENTS] = "too_many_events",
	[AM_BATCH_STRING_TOO_LONG] = "string_too_long",
	[AM_BATCH_BAD_EVENT_ID] = "bad_event_id",
	[AM_BATCH_MISSING_TIMESTAMP] = "missing_timestamp",
	[AM_BATCH_MISSING_TOOL] = "missing_tool",
	[AM_BATCH_NOMEM] = "out_of_memory",
	[AM_BATCH_UNKNOWN_FIELD] = "unknown_field",
	[AM_BATCH_DUPLICATE_FIELD] = "duplicate_field",
	[AM_BATCH_TOO_MANY_FIELDS] = "too_many_fields",
	[AM_BATCH_EVENT_TOO_LARGE] = "event_too_large",
	[AM_BATCH_CONTROL_CHARACTER] = "control_character",
	[AM_BATCH_BAD_ACTION] = "bad_action",
};

/* The reasons a rejected event carries in BatchAck and rejected_events. */
static const char *const fault_names[AM_EVENT_FAULT_MAX] = {
	[AM_EVENT_OK] = "ok",
	[AM_EVENT_BAD_ID] = "bad_event_id",
	[AM_EVENT_MISSING_TIMESTAMP] = "missing_timestamp",
	[AM_EVENT_MISSING_TOOL] = "missing_tool",
	[AM_EVENT_STRING_TOO_LONG] = "string_too_long",
	[AM_EVENT_CONTROL_CHARACTER] = "control_character",
	[AM_EVENT_BAD_KIND] = "bad_action_kind",
	[AM_EVENT_BAD_DECISION] = "bad_action_decision",
	[AM_EVENT_BAD_COUNT] = "bad_action_count",
	[AM_EVENT_BAD_NAME] = "bad_action_name",
	[AM_EVENT_BAD_REQUEST_ID] = "bad_request_id",
};

const char *
am_event_fault_name(enum am_event_fault f)
{
	if ((unsigned)f >= AM_EVENT_FAULT_MAX) {
		return "unknown";
	}
	return fault_names[f];
}

const char *
am_batch_error_name(enum am_batch_error code)
{
	if ((unsigned)code >= AM_BATCH_ERROR_MAX) {
		return "unknown";
	}
	return error_names[code];
}

int
am_batch_fail(struct am_batch_status *st, enum am_batch_error code, const char *fmt, ...)
{
	va_list ap;

	st->code = code;
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
	return -1;
}

int
am_batch_encode(const am_batch *batch, uint8_t **ret_buf, size_t *ret_len)
{
	size_t packed_len, bound, n;
	uint8_t *packed, *out;

	packed_len = aimeter__v1__batch__get_packed_size(batch);
	packed = malloc(packed_len ? packed_len : 1);
	if (packed == NULL) {
		return -ENOMEM;
	}
	aimeter__v1__batch__pack(batch, packed);
	bound = ZSTD_compressBound(packed_len);
	out = malloc(bound);
	if (out == NULL) {
		free(packed);
		return -ENOMEM;
	}
	n = ZSTD_compress(out, bound, packed, packed_len, AM_ZSTD_LEVEL);
	free(packed);
	if (ZSTD_isError(n)) {
		free(out);
		return -EIO;
	}
	*ret_buf = out;
	*ret_len = n;
	return 0;
}

/*
 * Bounded streaming decompression; when scan is not NULL, the output so far
 * goes through the wire pre-pass after every step, so a bomb of tiny fields
 * stops after kilobytes, not after max_decompressed.
 */
static int
decompress(const uint8_t *buf, size_t len, const struct am_batch_limits *lim, struct am_scan *scan,
	   uint8_t **ret_out, size_t *ret_len, struct am_batch_status *st)
{
	ZSTD_DCtx *dctx = NULL;
	ZSTD_inBuffer in = { buf, len, 0 };
	uint8_t *out = NULL, *grown;
	size_t cap, used = 0, ret = 1;
	unsigned long long declared;
	int r = -1;

	*ret_out = NULL;
	*ret_len = 0;
	if (len == 0) {
		return am_batch_fail(st, AM_BATCH_EMPTY, "request body is empty; expected one zstd frame");
	}
	if (len > lim->max_compressed) {
		return am_batch_fail(st, AM_BATCH_COMPRESSED_TOO_LARGE,
			    "compressed body is %zu bytes, limit is %zu", len, lim->max_compressed);
	}
	if (len < 4 || buf[0] != 0x28 || buf[1] != 0xb5 || buf[2] != 0x2f || buf[3] != 0xfd) {
		return am_batch_fail(st, AM_BATCH_NOT_ZSTD,
			    "body is not a zstd frame (no zstd magic number in the first 4 bytes)");
	}

	/* Start small unless the frame declares a size within the cap; the
	 * declared size is a hint only, the running cap below is what holds. */
	cap = 64 * 1024;
	declared = ZSTD_getFrameContentSize(buf, len);
	if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR) {
		if (declared > lim->max_decompressed) {
			return am_batch_fail(st, AM_BATCH_DECOMPRESSED_TOO_LARGE,
				    "zstd frame declares %llu decompressed bytes, limit is %zu",
				    declared, lim->max_decompressed);
		}
		cap = declared > 0 ? (size_t)declared : 1;
	}
	if (cap > lim->max_decompressed) {
		cap = lim->max_decompressed;
	}

	dctx = ZSTD_createDCtx();
	out = malloc(cap);
	if (dctx == NULL || out == NULL) {
		am_batch_fail(st, AM_BATCH_NOMEM, "could not allocate %zu bytes for decompression", cap);
		goto done;
	}
	if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax,
						(int)lim->max_window_log))) {
		am_batch_fail(st, AM_BATCH_NOMEM, "could not set the zstd window limit");
		goto done;
	}

	while (ret != 0) {
		ZSTD_outBuffer o;

		if (used == cap) {
			size_t next;

			if (cap >= lim->max_decompressed) {
				/* Probe one more byte, so an output of exactly the
				 * cap is not mistaken for a bomb. */
				uint8_t probe;
				ZSTD_outBuffer po = { &probe, 1, 0 };

				ret = ZSTD_decompressStream(dctx, &po, &in);
				if (ZSTD_isError(ret)) {
					break; /* reported below */
				}
				if (po.pos > 0) {
					am_batch_fail(st, AM_BATCH_DECOMPRESSED_TOO_LARGE,
					     "decompressed body passed the limit of %zu bytes after "
					     "%zu compressed bytes (a zstd bomb?)",
					     lim->max_decompressed, in.pos);
					goto done;
				}
				if (ret != 0 && in.pos == in.size) {
					am_batch_fail(st, AM_BATCH_ZSTD_TRUNCATED,
					     "zstd frame is truncated: input ended after %zu bytes with "
					     "the frame incomplete",
					     len);
					goto done;
				}
				continue;
			}
			next = cap * 2 < lim->max_decompressed ? cap * 2 : lim->max_decompressed;
			grown = realloc(out, next);
			if (grown == NULL) {
				am_batch_fail(st, AM_BATCH_NOMEM, "could not grow decompression buffer to %zu bytes",
				     next);
				goto done;
			}
			out = grown;
			cap = next;
		}
		o.dst = out;
		o.size = cap;
		o.pos = used;
		ret = ZSTD_decompressStream(dctx, &o, &in);
		used = o.pos;
		if (ZSTD_isError(ret)) {
			break;
		}
		if (scan != NULL && am_scan_feed(scan, out, used, false, st) < 0) {
			goto done;
		}
		if (ret != 0 && in.pos == in.size && o.pos < o.size) {
			/* zstd wants more input and there is none. */
			am_batch_fail(st, AM_BATCH_ZSTD_TRUNCATED,
			     "zstd frame is truncated: input ended after %zu bytes with the frame "
			     "incomplete",
			     len);
			goto done;
		}
	}
	if (ZSTD_isError(ret)) {
		if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge) {
			am_batch_fail(st, AM_BATCH_ZSTD_WINDOW,
			     "zstd frame needs a window above the limit of 2^%u bytes",
			     lim->max_window_log);
		} else {
			am_batch_fail(st, AM_BATCH_ZSTD_CORRUPT, "zstd frame is corrupt at input byte %zu: %s",
			     in.pos, ZSTD_getErrorName(ret));
		}
		goto done;
	}
	if (in.pos != in.size) {
		am_batch_fail(st, AM_BATCH_TRAILING_DATA,
		     "%zu bytes follow the zstd frame; a batch is exactly one frame",
		     in.size - in.pos);
		goto done;
	}
	*ret_out = out;
	*ret_len = used;
	out = NULL;
	r = 0;
done:
	free(out);
	ZSTD_freeDCtx(dctx);
	return r;
}

int
am_zstd_decompress(const uint8_t *buf, size_t len, const struct am_batch_limits *lim,
		   uint8_t **ret_out, size_t *ret_len, struct am_batch_status *st)
{
	return decompress(buf, len, lim, NULL, ret_out, ret_len, st);
}

/* The faults only the unpacked event shows; the scan found the string ones. */
static bool short_name(const char *s, size_t max, bool may_be_empty);

static enum am_event_fault
judge_event(const am_usage_event *e)
{
	if (e->event_id.len != AM_EVENT_ID_LEN) {
		return AM_EVENT_BAD_ID;
	}
	if (e->ts_ms <= 0) {
		return AM_EVENT_MISSING_TIMESTAMP;
	}
	if (e->tool == NULL || e->tool[0] == '\0') {
		return AM_EVENT_MISSING_TOOL;
	}
	/* an opaque id, never a place for text */
	if (e->request_id != NULL && e->request_id[0] != '\0' && !am_request_id_valid(e->request_id)) {
		return AM_EVENT_BAD_REQUEST_ID;
	}
	return AM_EVENT_OK;
}

/* A short name: [A-Za-z0-9] then [A-Za-z0-9_.:+-], at most max bytes; "" when may_be_empty. */
static bool
short_name(const char *s, size_t max, bool may_be_empty)
{
	size_t n = s == NULL ? 0 : strlen(s);

	if (n == 0) {
		return may_be_empty;
	}
	if (n > max) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || strchr("_.:+-", c) == NULL)) {
			return false;
		}
	}
	return true;
}

/*
 * The faults of one action (docs/actions.md, "What the collector must do"):
 * the scan found the string ones. Names carry no text: a built-in, an
 * allowlisted name or "h:<hex>", so no space, slash or quote gets through.
 */
static enum am_event_fault
judge_action(const am_action_record *a)
{
	if (a->action_id.len != AM_EVENT_ID_LEN) {
		return AM_EVENT_BAD_ID;
	}
	/* Years 1970..9999: the database turns the time into a timestamptz. */
	if (a->ts_ms <= 0 || a->ts_ms > 253402300799999LL) {
		return AM_EVENT_MISSING_TIMESTAMP;
	}
	if (a->tool == NULL || a->tool[0] == '\0') {
		return AM_EVENT_MISSING_TOOL;
	}
	if ((int)a->kind <= AIMETER__V1__ACTION_KIND__ACTION_KIND_UNSPECIFIED ||
	    (int)a->kind > AIMETER__V1__ACTION_KIND__ACTION_KIND_OTHER) {
		return AM_EVENT_BAD_KIND;
	}
	if ((int)a->decision < AIMETER__V1__ACTION_DECISION__ACTION_DECISION_UNKNOWN ||
	    (int)a->decision > AIMETER__V1__ACTION_DECISION__ACTION_DECISION_ERROR) {
		return AM_EVENT_BAD_DECISION;
	}
	if (a->commits > 1 || a->pull_requests > 1 || a->lines_added > AM_ACTION_MAX_LINES ||
	    a->lines_removed > AM_ACTION_MAX_LINES || a->proposed_lines_added > AM_ACTION_MAX_LINES ||
	    a->proposed_lines_removed > AM_ACTION_MAX_LINES) {
		return AM_EVENT_BAD_COUNT;
	}
	if (!short_name(a->tool_name, AM_ACTION_NAME_MAX, false) ||
	    !short_name(a->target, AM_ACTION_NAME_MAX, true) ||
	    !short_name(a->file_ext, AM_ACTION_EXT_MAX, true)) {
		return AM_EVENT_BAD_NAME;
	}
	return AM_EVENT_OK;
}

bool
am_request_id_valid(const char *s)
{
	return short_name(s, AM_REQUEST_ID_MAX, false);
}

/* Whether any event sets UsageEvent.request_id (field 19, schema version 3). */
static bool
has_request_ids(const am_batch *b)
{
	for (size_t i = 0; i < b->n_events; i++) {
		if (b->events[i]->request_id != NULL && b->events[i]->request_id[0] != '\0') {
			return true;
		}
	}
	return false;
}

/* Merge the scan's and the judges' faults: events, then actions. */
static int
collect_faults(const am_batch *b, struct am_scan *scan, uint8_t **ret,
	       struct am_batch_status *st)
{
	size_t n = b->n_events + b->n_actions;
	uint8_t *all = NULL;

	for (size_t i = 0; i < n; i++) {
		bool is_action = i >= b->n_events;
		size_t j = is_action ? i - b->n_events : i;
		const uint8_t *found = is_action ? scan->action_faults : scan->faults;
		enum am_event_fault f = is_action ? judge_action(b->actions[j]) : judge_event(b->events[j]);

		/* An id, timestamp, tool or range fault says more than a string fault. */
		if (f == AM_EVENT_OK && found != NULL) {
			f = (enum am_event_fault)found[j];
		}
		if (f == AM_EVENT_OK) {
			continue;
		}
		if (all == NULL && (all = calloc(n, 1)) == NULL) {
			return am_batch_fail(st, AM_BATCH_NOMEM, "could not allocate the event fault list");
		}
		all[i] = (uint8_t)f;
	}
	*ret = all;
	return 0;
}

int
am_batch_decode_events(const uint8_t *buf, size_t len, const struct am_batch_limits *lim,
		       am_batch **ret_batch, uint8_t **ret_faults, struct am_batch_status *st)
{
	struct am_scan scan;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	am_batch *b = NULL;
	uint8_t *faults = NULL;

	*ret_batch = NULL;
	*ret_faults = NULL;
	st->code = AM_BATCH_OK;
	st->message[0] = '\0';
	if (lim == NULL) {
		lim = &am_batch_default_limits;
	}
	am_scan_init(&scan, lim);
	if (decompress(buf, len, lim, &scan, &raw, &raw_len, st) < 0 ||
	    am_scan_feed(&scan, raw, raw_len, true, st) < 0) {
		goto err;
	}
	b = aimeter__v1__batch__unpack(NULL, raw_len, raw);
	if (b == NULL || b->n_events != scan.events) {
		am_batch_fail(st, AM_BATCH_PROTOBUF,
		     "decompressed body (%zu bytes) is not a valid protobuf Batch message", raw_len);
		goto err;
	}
	if (b->n_actions != scan.actions) {
		am_batch_fail(st, AM_BATCH_PROTOBUF,
		     "decompressed body (%zu bytes) is not a valid protobuf Batch message", raw_len);
		goto err;
	}
	if (b->schema_version < AM_SCHEMA_VERSION || b->schema_version > AM_SCHEMA_VERSION_MAX) {
		am_batch_fail(st, AM_BATCH_SCHEMA_VERSION,
		     "batch schema_version %u is not supported; this collector accepts %d to %d",
		     b->schema_version, AM_SCHEMA_VERSION, AM_SCHEMA_VERSION_MAX);
		goto err;
	}
	if (b->n_actions > 0 && b->schema_version < AM_SCHEMA_VERSION_ACTIONS) {
		am_batch_fail(st, AM_BATCH_UNKNOWN_FIELD,
		     "batch schema_version %u carries %zu actions; actions need schema_version %d",
		     b->schema_version, b->n_actions, AM_SCHEMA_VERSION_ACTIONS);
		goto err;
	}
	if (b->schema_version < AM_SCHEMA_VERSION_REQUEST_IDS && has_request_ids(b)) {
		am_batch_fail(st, AM_BATCH_UNKNOWN_FIELD,
		     "batch schema_version %u carries request ids; they need schema_version %d",
		     b->schema_version, AM_SCHEMA_VERSION_REQUEST_IDS);
		goto err;
	}
	if (collect_faults(b, &scan, &faults, st) < 0) {
		goto err;
	}
	am_scan_finish(&scan);
	free(raw);
	*ret_batch = b;
	*ret_faults = faults;
	return 0;
err:
	am_scan_finish(&scan);
	am_batch_free(b);
	free(raw);
	return -1;
}

static const enum am_batch_error fault_errors[AM_EVENT_FAULT_MAX] = {
	[AM_EVENT_OK] = AM_BATCH_OK,
	[AM_EVENT_BAD_ID] = AM_BATCH_BAD_EVENT_ID,
	[AM_EVENT_MISSING_TIMESTAMP] = AM_BATCH_MISSING_TIMESTAMP,
	[AM_EVENT_MISSING_TOOL] = AM_BATCH_MISSING_TOOL,
	[AM_EVENT_STRING_TOO_LONG] = AM_BATCH_STRING_TOO_LONG,
	[AM_EVENT_CONTROL_CHARACTER] = AM_BATCH_CONTROL_CHARACTER,
	[AM_EVENT_BAD_KIND] = AM_BATCH_BAD_ACTION,
	[AM_EVENT_BAD_DECISION] = AM_BATCH_BAD_ACTION,
	[AM_EVENT_BAD_COUNT] = AM_BATCH_BAD_ACTION,
	[AM_EVENT_BAD_NAME] = AM_BATCH_BAD_ACTION,
	[AM_EVENT_BAD_REQUEST_ID] = AM_BATCH_BAD_EVENT_ID,
};

int
am_batch_decode(const uint8_t *buf, size_t len, const struct am_batch_limits *lim,
		am_batch **ret_batch, struct am_batch_status *st)
{
	am_batch *b;
	uint8_t *faults;

	if (am_batch_decode_events(buf, len, lim, &b, &faults, st) < 0) {
		*ret_batch = NULL;
		return -1;
	}
	for (size_t i = 0; faults != NULL && i < b->n_events + b->n_actions; i++) {
		if (faults[i] != AM_EVENT_OK) {
			bool is_action = i >= b->n_events;
			am_batch_fail(st, fault_errors[faults[i]], "%s %zu: %s",
			     is_action ? "action" : "event", is_action ? i - b->n_events : i,
			     am_event_fault_name((enum am_event_fault)faults[i]));
			free(faults);
			am_batch_free(b);
			*ret_batch = NULL;
			return -1;
		}
	}
	free(faults);
	*ret_batch = b;
	return 0;
}

void
am_batch_free(am_batch *batch)
{
	if (batch != NULL) {
		aimeter__v1__batch__free_unpacked(batch, NULL);
	}
}
