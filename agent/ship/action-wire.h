/*
 * action-wire.h: an action record (action.h) as the wire's ActionRecord
 * (proto/aimeter/v1/telemetry.proto, schema version 2), and the schema
 * negotiation rule the shipper follows (docs/actions.md, "Negotiation").
 */
#ifndef AM_AGENT_ACTION_WIRE_H
#define AM_AGENT_ACTION_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "action.h"
#include "batch.h"

/*
 * action_wire_fill(a, user, team_hint, ret): ret (initialised here) borrows
 * every string of a, user and team_hint; ret->action_id borrows a->id.
 */
void action_wire_fill(const struct action_rec *a, const char *user, const char *team_hint,
		      am_action_record *ret);

/*
 * action_wire_allowed(max_schema): whether batches may carry actions to a
 * collector whose last BatchAck said max_schema_version (0: an older
 * collector, which refuses Batch field 8).
 */
bool action_wire_allowed(uint32_t max_schema);

#endif
