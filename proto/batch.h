/*
 * batch.h: encode and decode aimeter wire batches (protobuf in one zstd frame).
 *
 * The decoder is the first thing untrusted bytes meet in the collector, so it
 * enforces every cap before or while it allocates: compressed size, a running
 * decompressed-size cap checked while zstd expands (a bomb stops early), the
 * zstd window, and a wire pre-pass (scan.h) that runs while zstd expands:
 * unknown fields, duplicate fields, total fields, events per batch and
 * header strings are refused before protobuf-c allocates anything.
 *
 * Faults of one event (its id, timestamp, tool, a string too long or with a
 * control character) do not fail the batch: am_batch_decode_events reports
 * them per event, so the good events of the batch still count.
 * It never logs; the caller logs once.
 */
#ifndef AM_BATCH_H
#define AM_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "telemetry.pb-c.h"

#define AM_SCHEMA_VERSION 1
/* Batches that carry action records (Batch.actions) are this version. */
#define AM_SCHEMA_VERSION_ACTIONS 2
#define AM_ZSTD_LEVEL 3
#define AM_EVENT_ID_LEN 16
/* Batches whose usage events carry request ids (UsageEvent.request_id) are this version. */
#define AM_SCHEMA_VERSION_REQUEST_IDS 3
/* The highest schema_version the decoder accepts; every BatchAck says so. */
#define AM_SCHEMA_VERSION_MAX AM_SCHEMA_VERSION_REQUEST_IDS
/* Lines one tool call may add or remove: far above any real edit. */
#define AM_ACTION_MAX_LINES 10000000u
/* A tool name, target or MCP name: built-ins, allowlisted names, "h:<16 hex>". */
#define AM_ACTION_NAME_MAX 64
#define AM_ACTION_EXT_MAX 10
/* A request id: "req_" and 24-40 characters at Anthropic; room for other clouds' forms. */
#define AM_REQUEST_ID_MAX 128

typedef Aimeter__V1__Batch am_batch;
typedef Aimeter__V1__UsageEvent am_usage_event;
typedef Aimeter__V1__ActionRecord am_action_record;

/* Each failure has its own code, so callers can map it to a status. */
enum am_batch_error {
	AM_BATCH_OK = 0,
	AM_BATCH_EMPTY,              /* zero-length body */
	AM_BATCH_COMPRESSED_TOO_LARGE,
	AM_BATCH_NOT_ZSTD,           /* no zstd magic number */
	AM_BATCH_ZSTD_TRUNCATED,     /* the frame ends early */
	AM_BATCH_ZSTD_CORRUPT,       /* zstd reported a decoding error */
	AM_BATCH_ZSTD_WINDOW,        /* frame asks for a window above the limit */
	AM_BATCH_TRAILING_DATA,      /* bytes after the one frame */
	AM_BATCH_DECOMPRESSED_TOO_LARGE, /* output passed the cap: a bomb */
	AM_BATCH_PROTOBUF,           /* not a valid Batch message */
	AM_BATCH_SCHEMA_VERSION,     /* unsupported schema_version (HTTP 409) */
	AM_BATCH_TOO_MANY_EVENTS,
	AM_BATCH_STRING_TOO_LONG,
	AM_BATCH_BAD_EVENT_ID,       /* missing, or not 16 bytes */
	AM_BATCH_MISSING_TIMESTAMP,
	AM_BATCH_MISSING_TOOL,
	AM_BATCH_NOMEM,              /* allocation failed or hit the memory cap */
	AM_BATCH_UNKNOWN_FIELD,      /* a field number telemetry.proto does not have */
	AM_BATCH_DUPLICATE_FIELD,    /* a non-repeated field twice (no encoder does that) */
	AM_BATCH_TOO_MANY_FIELDS,    /* more fields than any valid batch has */
	AM_BATCH_EVENT_TOO_LARGE,    /* one event's bytes above max_event_bytes */
	AM_BATCH_CONTROL_CHARACTER,  /* a C0/C1 control character in a header string */
	AM_BATCH_BAD_ACTION,         /* an action's kind, decision, count or name is out of range */
	AM_BATCH_ERROR_MAX
};

struct am_batch_limits {
	size_t max_compressed;   /* bytes on the wire */
	size_t max_decompressed; /* bytes of protobuf after zstd */
	size_t max_events;       /* events per batch */
	size_t max_string;       /* bytes in any one string field */
	unsigned max_window_log; /* zstd window log limit */
	size_t max_fields;       /* protobuf fields at every level; 0: derived from max_events */
	size_t max_event_bytes;  /* encoded bytes of one event; 0: 64 KiB */
};

/* One event's fault: the event is rejected, the rest of the batch goes on. */
enum am_event_fault {
	AM_EVENT_OK = 0,
	AM_EVENT_BAD_ID,             /* missing, or not 16 bytes */
	AM_EVENT_MISSING_TIMESTAMP,  /* ts_ms missing or not positive */
	AM_EVENT_MISSING_TOOL,
	AM_EVENT_STRING_TOO_LONG,    /* a string above max_string */
	AM_EVENT_CONTROL_CHARACTER,  /* a C0 control, DEL or C1 control in a string */
	/* Actions only (schema version 2): */
	AM_EVENT_BAD_KIND,           /* kind unspecified or not in ActionKind */
	AM_EVENT_BAD_DECISION,       /* decision not in ActionDecision */
	AM_EVENT_BAD_COUNT,          /* commits/pull_requests above 1, lines above AM_ACTION_MAX_LINES */
	AM_EVENT_BAD_NAME,           /* tool_name/target/file_ext not a short name (no text) */
	AM_EVENT_BAD_REQUEST_ID,     /* request_id not a short name of AM_REQUEST_ID_MAX bytes */
	AM_EVENT_FAULT_MAX
};

/* Defaults: 4 MiB compressed, 32 MiB decompressed, 10,000 events, 256-byte strings. */
extern const struct am_batch_limits am_batch_default_limits;

struct am_batch_status {
	enum am_batch_error code;
	char message[192]; /* precise, human text: what, where and the limit */
};

/*
 * am_batch_encode(batch, ret_buf, ret_len):
 * Pack batch and compress it into one zstd frame at AM_ZSTD_LEVEL. On success
 * *ret_buf is malloc'd and owned by the caller. Returns 0 or -ENOMEM / -EIO.
 */
int am_batch_encode(const am_batch *batch, uint8_t **ret_buf, size_t *ret_len);

/*
 * am_batch_decode_events(buf, len, limits, ret_batch, ret_faults, ret_status):
 * Decompress and pre-scan buf under limits (NULL: defaults), unpack it, check
 * the schema version (1, or 2 with actions), then judge every event and
 * action. Returns 0 with *ret_batch owned by the caller (free with
 * am_batch_free) and *ret_faults NULL when every record is fine, else a
 * malloc'd array (caller frees) holding one enum am_event_fault per event,
 * then one per action (n_events + n_actions entries, the order of
 * Rejected.index). Returns -1 for a batch-level
 * fault, with ret_status filled in and both outputs NULL.
 */
int am_batch_decode_events(const uint8_t *buf, size_t len, const struct am_batch_limits *limits,
			   am_batch **ret_batch, uint8_t **ret_faults,
			   struct am_batch_status *ret_status);

/*
 * am_batch_decode(buf, len, limits, ret_batch, ret_status):
 * am_batch_decode_events for callers that take only whole batches: the first
 * faulty event fails the batch with its own code (AM_BATCH_BAD_EVENT_ID,
 * AM_BATCH_STRING_TOO_LONG, ...). Returns 0 or -1 as above.
 */
int am_batch_decode(const uint8_t *buf, size_t len, const struct am_batch_limits *limits,
		    am_batch **ret_batch, struct am_batch_status *ret_status);

/*
 * am_control_character(s, n): the n bytes at s hold a C0 control (NUL
 * included), DEL or a C1 control (U+0080..U+009F in UTF-8): never part of a
 * string a device sends about itself.
 */
bool am_control_character(const uint8_t *s, size_t n);

/* am_event_fault_name(f): the rejection reason, e.g. "control_character". */
const char *am_event_fault_name(enum am_event_fault f);

/*
 * am_request_id_valid(s): whether s can be a UsageEvent.request_id: 1 to
 * AM_REQUEST_ID_MAX of [A-Za-z0-9] then [A-Za-z0-9_.:+-] ("req_011C...").
 * Anything else could carry text, so the decoder refuses it (bad_request_id).
 */
bool am_request_id_valid(const char *s);

/* am_batch_free(batch): free a batch from am_batch_decode; NULL is fine. */
void am_batch_free(am_batch *batch);

/* am_batch_error_name(code): a stable snake_case name, e.g. "zstd_truncated". */
const char *am_batch_error_name(enum am_batch_error code);

/*
 * am_zstd_decompress(buf, len, limits, ret_out, ret_len, ret_status):
 * The bounded streaming decompression step of am_batch_decode, on its own for
 * tests: exactly one frame, window and output capped while it expands.
 * Returns 0 with *ret_out malloc'd (caller frees), or -1 with ret_status set.
 */
int am_zstd_decompress(const uint8_t *buf, size_t len, const struct am_batch_limits *limits,
		       uint8_t **ret_out, size_t *ret_len, struct am_batch_status *ret_status);

#endif
