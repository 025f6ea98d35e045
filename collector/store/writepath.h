/*
 * writepath.h: the client side of the write path (docs/write-path.md), shared
 * by aimeter-collector and aimeterctl: the SQL it sends and the COPY text rows
 * for the staging tables, formatted from decoded wire events.
 *
 * No I/O and no logging here: callers send the SQL and the buffer over libpq
 * (synchronously in aimeterctl, on the loop in the collector).
 */
#ifndef AM_WRITEPATH_H
#define AM_WRITEPATH_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

/* Once per session (the temp tables outlive transactions, not sessions). */
#define WRITEPATH_SQL_CREATE_STAGE                                                                \
	"CREATE TEMP TABLE IF NOT EXISTS am_stage_batch (LIKE aimeter.stage_batch_template) "     \
	"ON COMMIT DELETE ROWS; "                                                                 \
	"CREATE TEMP TABLE IF NOT EXISTS am_stage (LIKE aimeter.stage_event_template) "           \
	"ON COMMIT DELETE ROWS; " WRITEPATH_SQL_CREATE_STAGE_REQUESTS

/* Request ids of staged events (schema version 3, OTLP): apart from am_stage,
 * whose columns older functions and tools list; aimeter.ingest_staged()
 * matches calls by them (docs/otlp.md, "One call, counted once"). */
#define WRITEPATH_SQL_CREATE_STAGE_REQUESTS                                                       \
	"CREATE TEMP TABLE IF NOT EXISTS am_stage_request (batch_idx int NOT NULL, "              \
	"ord int NOT NULL, request_id text NOT NULL) ON COMMIT DELETE ROWS"
#define WRITEPATH_SQL_COPY_REQUESTS                                                               \
	"COPY am_stage_request (batch_idx, ord, request_id) FROM STDIN"

#define WRITEPATH_SQL_COPY_BATCH                                                                  \
	"COPY am_stage_batch (batch_idx, device_id, batch_id, events_sent, spool_dropped) "       \
	"FROM STDIN"

#define WRITEPATH_SQL_COPY_EVENTS                                                                 \
	"COPY am_stage (batch_idx, ord, event_id, ts, tool, model, session, project, "            \
	"identity_hmac, team_hint, billing_mode, input_tokens, output_tokens, "                   \
	"cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, reasoning_tokens, "     \
	"web_search_requests, speed, service_tier, reject_reason) FROM STDIN"

/*
 * The fold (docs/write-path.md, "The fold"): a transaction begun with
 * WRITEPATH_SQL_BEGIN_DEFERRED leaves its events out of the rollups;
 * the writer then runs WRITEPATH_SQL_FOLD after at most
 * WRITEPATH_FOLD_EVERY_BATCHES such batches or WRITEPATH_FOLD_EVERY_MS,
 * and whenever it has nothing else to write.
 */
#define WRITEPATH_SQL_BEGIN_DEFERRED "BEGIN; SET LOCAL aimeter.defer_fold = on"
/* Identity counters wait for this many pending rows (one per device and batch). */
#define WRITEPATH_FOLD_IDENTITIES_MIN 1024
#define WRITEPATH_STR_(x) #x
#define WRITEPATH_STR(x) WRITEPATH_STR_(x)
#define WRITEPATH_SQL_FOLD                                                                        \
	"SELECT aimeter.fold_rollups(" WRITEPATH_STR(WRITEPATH_FOLD_IDENTITIES_MIN) ")"
#define WRITEPATH_FOLD_EVERY_BATCHES 128
#define WRITEPATH_FOLD_EVERY_MS 2000

#define WRITEPATH_SQL_INGEST                                                                      \
	"SELECT batch_idx, inserted, duplicates, rejected, rejections, new_identities "           \
	"FROM aimeter.ingest_staged()"

/* A growable text buffer with a maximum fixed at init (curl DYNBUF). */
struct writepath_buf {
	char *data; /* owned; NUL-terminated while len < cap */
	size_t len;
	size_t cap;
	size_t max;
};

/* writepath_buf_init(b, max): an empty buffer that never grows past max bytes. */
void writepath_buf_init(struct writepath_buf *b, size_t max);

/* writepath_buf_reset(b): forget the contents, keep the memory. */
void writepath_buf_reset(struct writepath_buf *b);

/* writepath_buf_finish(b): free the memory; b may be half-built. */
void writepath_buf_finish(struct writepath_buf *b);

/*
 * writepath_format_batch(b, batch_idx, device_id, batch_id, batch_id_len,
 * events_sent, spool_dropped): append one am_stage_batch row. device_id is a
 * UUID string or NULL/empty (no device); batch_id may be NULL. A device_id
 * that is not a UUID is written as NULL. Returns 0 or -ENOBUFS when the
 * buffer's maximum would be passed (nothing is appended then).
 */
int writepath_format_batch(struct writepath_buf *b, int batch_idx, const char *device_id,
			   const uint8_t *batch_id, size_t batch_id_len, uint64_t events_sent,
			   uint64_t spool_dropped);

/*
 * writepath_format_event(b, batch_idx, ord, ev, identity_hmac, team_hint,
 * reject_reason): append one am_stage row for ev (borrowed). identity_hmac
 * is the 32-byte HMAC of ev->user (identity_hmac()), or NULL when the event
 * has no identity. team_hint overrides ev->team_hint when not NULL.
 * reject_reason is NULL for an event to judge, or the caller's verdict
 * (a short snake_case word, e.g. "bad_timestamp"): ingest_staged stores the
 * event in rejected_events with that reason and inserts nothing for it.
 * Strings are escaped for COPY text and invalid UTF-8 bytes become '?';
 * counts above INT64_MAX are written as -1, so ingest_staged rejects them as
 * negative_count instead of wrapping; a timestamp outside years 1..9999 is
 * written as NULL (missing_timestamp). Returns 0 or -ENOBUFS (nothing
 * appended).
 */
int writepath_format_event(struct writepath_buf *b, int batch_idx, int ord,
			   const am_usage_event *ev, const uint8_t *identity_hmac,
			   const char *team_hint, const char *reject_reason);

/*
 * writepath_format_request(b, batch_idx, ord, request_id): append one
 * am_stage_request row: the request id (borrowed; escaped like any text) of
 * the staged event at batch_idx, ord. Returns 0 or -ENOBUFS (nothing appended).
 */
int writepath_format_request(struct writepath_buf *b, int batch_idx, int ord,
			     const char *request_id);

/* writepath_billing_mode(mode): "subscription", "api", "cloud" or "unknown". */
const char *writepath_billing_mode(int mode);

#endif
