/*
 * ship.h: send spooled events to the collector with libcurl's multi
 * interface on the agent's libuv loop (curl docs/examples/multi-uv.c).
 *
 * One batch is in flight at a time, so batches leave in spool order. A batch
 * goes when the spool holds batch_events events or batch_bytes bytes, when
 * its oldest event has waited batch_age_ms, or on ship_flush. Responses:
 *   2xx        spool_ack: only now is the data deleted
 *   400, 415   the encoded batch goes to the quarantine folder with a log
 *              line, it is acknowledged as quarantined, the rest flows
 *   401        the data stays; the device token is dropped, enroll again
 *   409        the data stays (unsupported schema); retry with backoff; a
 *              batch with actions: usage goes again alone (below)
 *   413        the data stays; retry with half as many events (one event
 *              that is still too large is quarantined)
 *   429, 503   Retry-After honoured, else backoff
 *   other      the data stays; full-jitter exponential backoff, 1 s base,
 *              5 min cap, forever
 * HTTPS only, peer and host verification on, optional CA file and pinned
 * public key.
 *
 * Action records (the action spool, docs/actions.md "Negotiation") join a
 * batch (schema version 2) only after a BatchAck said max_schema_version 2
 * or more; until then they stay spooled, and when only they wait, an empty
 * batch asks the collector again every few minutes. A 409 to a batch that
 * carried them makes the shipper forget the version and send usage alone.
 */
#ifndef AM_SHIP_H
#define AM_SHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "enroll.h"
#include "spool.h"

struct ship_options {
	const char *url;            /* collector base URL, https://host[:port] */
	const char *ca_file;        /* NULL: the system store */
	const char *pin;            /* NULL, or "sha256//<base64>" */
	size_t batch_events;        /* 0: 1000 */
	uint64_t batch_bytes;       /* spooled bytes that trigger a send; 0: 1 MiB */
	uint64_t batch_age_ms;      /* 0: 60 s */
	uint64_t future_retry_ms;   /* events refused as in the future wait this long; 0: 1 h */
	uint64_t backoff_base_ms;   /* 0: 1 s */
	uint64_t backoff_cap_ms;    /* 0: 5 min */
	const char *state_dir;      /* device.token, status, quarantine/ */
	const char *key_file;       /* where enrollment writes the project key; NULL: default */
	struct spool *actions;      /* the action spool (borrowed), or NULL */
	struct enroll_info enroll;  /* borrowed strings */
};

struct ship;

/*
 * ship_enrolled_cb: enrollment succeeded (first time or after a 401); the
 * project key file is in place.
 */
typedef void (*ship_enrolled_cb)(struct ship *ship, void *opaque);

/*
 * ship_create(loop, spool, opts, cb, opaque, ret_ship): set up curl and the
 * timers; strings in opts are copied. If device.token exists it is used,
 * otherwise the shipper enrolls first (with backoff until it succeeds).
 * Returns 0 or a negative errno (-EINVAL with a log line for a bad URL).
 */
int ship_create(uv_loop_t *loop, struct spool *spool, const struct ship_options *opts,
		ship_enrolled_cb cb, void *opaque, struct ship **ret_ship);

/* ship_kick(ship): new data was spooled; send if a threshold is reached. */
void ship_kick(struct ship *ship);

/* ship_flush(ship): send whatever is spooled now, ignoring the age threshold. */
void ship_flush(struct ship *ship);

/* ship_enrolled(ship): true once the shipper holds a device token. */
bool ship_enrolled(const struct ship *ship);

/* ship_idle(ship): nothing in flight and nothing pending in the spool. */
bool ship_idle(const struct ship *ship);

/*
 * ship_close(ship): abort a transfer in flight (its data stays spooled),
 * close every handle; the memory goes in the last close callback.
 */
void ship_close(struct ship *ship);

#endif
