/*
 * actions.h: inside ingest/: the action records of a schema-2 batch
 * (docs/actions.md) as the JSON rows aimeter.ingest_actions() takes, sent
 * as one more statement of the batch's write transaction.
 */
#ifndef AM_COLLECTOR_INGEST_ACTIONS_H
#define AM_COLLECTOR_INGEST_ACTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "batch.h"

#define ACTIONS_SQL_INGEST "SELECT aimeter.ingest_actions($1::jsonb)"

/*
 * actions_format(f, first, key, key_len, device_id, device_team, batch, faults):
 * Write one JSON object per action of batch that the decoder found fine
 * (faults: n_events + n_actions entries or NULL) to f, each preceded by ","
 * unless *first (then cleared). The user identity becomes its HMAC under
 * key, device_team fills a missing team hint, strings are JSON-escaped and
 * invalid UTF-8 bytes become '?'. Returns the number written, or -EIO.
 */
int actions_format(FILE *f, int *first, const uint8_t *key, size_t key_len, const char *device_id,
		   const char *device_team, const am_batch *batch, const uint8_t *faults);

/* actions_kind_name(kind), actions_decision_name(decision): the stored words. */
const char *actions_kind_name(int kind);
const char *actions_decision_name(int decision);

#endif
