/*
 * request-ids.h: the model API's request id of each Claude call read
 * ("requestId" on transcript lines, "req_..."), kept beside the ledger by
 * event id until the event is handed out, so the daemon can ship it
 * (UsageEvent.request_id, schema version 3) and the collector can tell the
 * call from its OpenTelemetry copy (docs/otlp.md, "One call, counted once").
 * Not in the ledger's records: they are packed tight for the scan's speed,
 * and only the daemon needs the id. An opaque token, never text.
 */
#ifndef AM_AGENT_REQUEST_IDS_H
#define AM_AGENT_REQUEST_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ids kept at most: past this a call goes without one (counted, maybe twice with OTLP). */
#define REQUEST_IDS_MAX (1u << 20)
#define REQUEST_ID_LEN 128 /* AM_REQUEST_ID_MAX */

struct request_id_slot {
	uint8_t event_id[16];
	char *request_id; /* owned; NULL: empty slot */
	bool tomb;        /* deleted: probing goes on past it */
};

struct request_ids {
	struct request_id_slot *slots;
	size_t n_slots; /* a power of two, or 0 */
	size_t used;    /* slots holding an id or a tombstone */
	size_t live;
};

/* request_ids_init(m) / request_ids_finish(m): caller memory; finish accepts a zeroed map. */
void request_ids_init(struct request_ids *m);
void request_ids_finish(struct request_ids *m);

/*
 * request_ids_put(m, event_id, request_id): remember request_id (copied) for
 * the event; a known event keeps its first id. Returns 0, -EINVAL for an id
 * that is empty or not a short token, -ENOSPC past REQUEST_IDS_MAX, -ENOMEM.
 */
int request_ids_put(struct request_ids *m, const uint8_t event_id[16], const char *request_id);

/* request_ids_get(m, event_id): the event's id (borrowed until a put or del), or NULL. */
const char *request_ids_get(const struct request_ids *m, const uint8_t event_id[16]);

/* request_ids_del(m, event_id): forget the event's id (handed out); absent is fine. */
void request_ids_del(struct request_ids *m, const uint8_t event_id[16]);

#endif
