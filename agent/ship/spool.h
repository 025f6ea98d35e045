/*
 * spool.h: the agent's durable, bounded queue of usage events.
 *
 * A directory of append-only segment files ("<first seq>.seg"). Each record
 * is framed as
 *
 *   u32 magic "ASR1" | u8 type | u8 flags | u16 reserved | u32 len | u32 crc
 *   | len bytes of payload
 *
 * (little endian), crc = CRC-32 (zlib) of the first 12 header bytes and the
 * payload. Record types:
 *
 *   DATA      seq, wall time, events (a packed Batch holding only events) and
 *             the readers' state delta those events came from: one write and
 *             one fdatasync cover both, so data and reading position can never
 *             disagree after a crash.
 *   SNAPSHOT  the readers' full state; the first record of every segment, so
 *             older segments can go without losing positions.
 *   META      the ack cursor and the counters (drops, corrupt records,
 *             quarantined batches); the last one wins.
 *
 * Acknowledged data is removed only by spool_ack, which the shipper calls
 * after a 2xx (or after quarantining a batch). Above max_bytes the oldest
 * segment is dropped whatever its state, and its unsent events are counted in
 * dropped_pending, which the shipper reports as Batch.spool_dropped_events
 * and clears with the ack of that batch. A record that fails its checksum is
 * skipped and counted, never retried. No record ever holds text content: the
 * events are counts and labels, the state blob is the readers' positions.
 *
 * Everything here is synchronous file I/O on small records; see spool.c for
 * why the agent can afford it on its loop.
 */
#ifndef AM_SPOOL_H
#define AM_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

#define SPOOL_MAGIC 0x31525341u /* "ASR1" */
#define SPOOL_HEADER_LEN 16
#define SPOOL_PAYLOAD_MAX (64u << 20)
#define SPOOL_DEFAULT_MAX_BYTES (256ull << 20)

enum spool_record_type {
	SPOOL_RECORD_DATA = 1,
	SPOOL_RECORD_SNAPSHOT = 2,
	SPOOL_RECORD_META = 3,
	SPOOL_RECORD_MAX
};

/* A decoded record; pointers borrow from the buffer that was decoded. */
struct spool_record {
	enum spool_record_type type;
	uint64_t seq;
	/* DATA */
	int64_t wall_ms;
	uint32_t n_events;
	const uint8_t *events; /* packed aimeter.v1.Batch with only field 6 */
	size_t events_len;
	/* DATA (delta) and SNAPSHOT (full state) */
	const uint8_t *state;
	size_t state_len;
	/* META */
	uint64_t ack_seq; /* first record not fully acknowledged */
	uint32_t ack_idx; /* events of record ack_seq already acknowledged */
	uint64_t dropped_pending;
	uint64_t dropped_total;
	uint64_t corrupt_total;
	uint64_t quarantined_batches;
	uint64_t quarantined_events;
	uint64_t shipped_events;
};

/*
 * spool_record_decode(buf, len, ret_rec, ret_used):
 * Parse one framed record at the start of buf. Returns 0 with *ret_rec
 * borrowing from buf and *ret_used the bytes it spans; -EAGAIN when buf ends
 * before the record does (a torn tail); -EBADMSG for a bad magic, length,
 * checksum or payload. Never reads past buf + len.
 */
int spool_record_decode(const uint8_t *buf, size_t len, struct spool_record *ret_rec,
			size_t *ret_used);

/*
 * spool_events_unpack(rec, ret_batch): unpack a DATA record's events under
 * the wire decoder's string limits. Returns 0 with *ret_batch owned by the
 * caller (free with spool_events_free), or -EBADMSG / -ENOMEM.
 */
int spool_events_unpack(const struct spool_record *rec, am_batch **ret_batch);
void spool_events_free(am_batch *batch);

/*
 * spool_events_pack(events, n, ret_buf, ret_len): pack n events (borrowed)
 * into the events blob of a DATA record; *ret_buf is malloc'd, caller frees.
 */
int spool_events_pack(am_usage_event *const *events, size_t n, uint8_t **ret_buf,
		      size_t *ret_len);

/*
 * spool_actions_pack(actions, n, ret_buf, ret_len): the same for action
 * records (Batch field 8), for the action spool: a second spool whose DATA
 * records hold only actions (docs/actions.md, "The daemon"). Its counters
 * ("events") count actions.
 */
int spool_actions_pack(am_action_record *const *actions, size_t n, uint8_t **ret_buf,
		       size_t *ret_len);

/*
 * The readers' state travels through these callbacks (borrowed pointers,
 * valid during the call):
 *   snapshot: return the full current state, malloc'd, in *ret_blob.
 *   restore:  called on open with the last valid SNAPSHOT (is_snapshot true)
 *             and then every later DATA record's delta, in order.
 */
struct spool_state_ops {
	int (*snapshot)(void *opaque, uint8_t **ret_blob, size_t *ret_len);
	int (*restore)(void *opaque, const uint8_t *blob, size_t len, bool is_snapshot);
	void *opaque;
};

struct spool_options {
	uint64_t max_bytes;     /* 0: SPOOL_DEFAULT_MAX_BYTES */
	uint64_t segment_bytes; /* 0: max_bytes / 8, within [64 KiB, 8 MiB] */
	bool read_only;         /* for `aimeter-agent status`: never writes */
};

struct spool_stats {
	uint64_t pending_events; /* spooled, not yet acknowledged */
	uint64_t pending_bytes;  /* bytes of the records holding them */
	uint64_t total_bytes;    /* all segment files */
	uint32_t segments;
	int64_t oldest_pending_ms; /* wall time the oldest pending record was spooled; 0: none */
	uint64_t dropped_pending;
	uint64_t dropped_total;
	uint64_t corrupt_total;
	uint64_t quarantined_batches;
	uint64_t quarantined_events;
	uint64_t shipped_events;
};

struct spool;

/*
 * spool_open(dir, opts, ops, ret_spool): open (creating, mode 0700) the spool
 * in dir, scan every segment, skip and count corrupt records, truncate a torn
 * tail, and feed the readers' state to ops->restore. ops may be NULL.
 * Returns 0 with *ret_spool (free with spool_close), or a negative errno.
 */
int spool_open(const char *dir, const struct spool_options *opts, const struct spool_state_ops *ops,
	       struct spool **ret_spool);

/* spool_close(spool): close files and free; NULL is fine. Writes nothing. */
void spool_close(struct spool *spool);

/*
 * spool_append(spool, events, events_len, n_events, state, state_len):
 * Append one DATA record (events blob from spool_events_pack, may be empty
 * with n_events 0; state delta may be empty) and fdatasync it. After it
 * returns 0 both are durable; then the cap is enforced. Negative errno on
 * failure (nothing was appended that a restart would accept).
 */
int spool_append(struct spool *spool, const uint8_t *events, size_t events_len, uint32_t n_events,
		 const uint8_t *state, size_t state_len);

/*
 * spool_peek(spool, max_events, ret_events, ret_n, ret_cursor_end):
 * The oldest unacknowledged events, up to max_events, in order, unpacked into
 * a caller-owned array (free with spool_peek_free). A record that fails its
 * checksum now is skipped and counted. *ret_n is 0 when nothing is pending.
 * *ret_cursor_end is the opaque cursor to pass to spool_ack once they are
 * delivered.
 */
struct spool_cursor {
	uint64_t seq;
	uint32_t idx;
};
struct spool_peek {
	am_usage_event **events;
	size_t n;                   /* items: events, or actions in the action spool */
	am_action_record **actions; /* the action spool's records; n_actions of n */
	size_t n_actions;
	am_batch **owners; /* unpacked records the events borrow from */
	size_t n_owners;
	struct spool_cursor end;
};
int spool_peek(struct spool *spool, size_t max_events, struct spool_peek *ret_peek);
void spool_peek_free(struct spool_peek *peek);

/*
 * spool_ack(spool, end, dropped_reported, shipped, quarantined):
 * Everything before end is delivered (or quarantined when quarantined is
 * true). dropped_reported is the spool_dropped_events the delivered batch
 * carried. Writes a META record, fsyncs it, and removes segments holding only
 * acknowledged data. Returns 0 or a negative errno.
 */
int spool_ack(struct spool *spool, struct spool_cursor end, uint64_t dropped_reported,
	      uint64_t events, bool quarantined);

/* spool_stats(spool, ret_stats): counters and sizes as of now. */
void spool_get_stats(const struct spool *spool, struct spool_stats *ret_stats);

/* spool_pending(spool): true when some event is not yet acknowledged. */
bool spool_pending(const struct spool *spool);

#endif
