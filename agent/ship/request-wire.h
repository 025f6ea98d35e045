/*
 * request-wire.h: request ids on the wire (UsageEvent.request_id, schema
 * version 3; docs/otlp.md, "One call, counted once"). A collector that
 * does not know field 19 refuses it in its wire pre-pass (HTTP 400, which
 * would quarantine the batch), so ids go only to a collector that said 3:
 * in its EnrollResponse or a BatchAck. What it said last is kept in
 * <state_dir>/collector-schema, so the first batch of a run carries them
 * too; a 409 (collector downgraded) forgets it and the batch goes again
 * without ids.
 */
#ifndef AM_AGENT_REQUEST_WIRE_H
#define AM_AGENT_REQUEST_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

/* request_wire_allowed(schema): whether a collector that said schema takes request ids. */
bool request_wire_allowed(uint32_t schema);

/* request_wire_load(state_dir): what the collector said last, 0 when unknown. */
uint32_t request_wire_load(const char *state_dir);

/* request_wire_save(state_dir, schema): remember it (best effort). 0 or a negative errno. */
int request_wire_save(const char *state_dir, uint32_t schema);

/* request_wire_any(events, n): whether any event carries a request id. */
bool request_wire_any(am_usage_event *const *events, size_t n);

/*
 * request_wire_hide(events, n, saved): clear every event's request id for
 * one encoding, keeping the n pointers in saved; request_wire_restore puts
 * them back (the events' owner frees them).
 */
void request_wire_hide(am_usage_event **events, size_t n, char **saved);
void request_wire_restore(am_usage_event **events, size_t n, char **saved);

#endif
