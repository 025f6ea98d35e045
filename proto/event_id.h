/*
 * event_id.h: the deterministic 16-byte event id (see proto/DESIGN.md).
 *
 * id = first 16 bytes of SHA-256("aimeter/v1" || 0x00 || tool || 0x00 || key).
 * Golden vectors in tests/unit/test-event-id.c pin it: changing it would make
 * every re-scanned event look new and be counted twice.
 */
#ifndef AM_EVENT_ID_H
#define AM_EVENT_ID_H

#include <stddef.h>
#include <stdint.h>

#define AM_EVENT_ID_DOMAIN "aimeter/v1"

/* am_event_id(tool, key, key_len, ret_id): write the id of (tool, key) to ret_id. */
void am_event_id(const char *tool, const void *key, size_t key_len, uint8_t ret_id[16]);

/* am_event_id_hex(id, ret_hex): 32 lowercase hex digits plus NUL into ret_hex. */
void am_event_id_hex(const uint8_t id[16], char ret_hex[33]);

/*
 * am_codex_dedup_key(ts, input, cached, output, reasoning, total, ret_buf, size):
 * Format the Codex dedup key: the token_count line's timestamp string exactly
 * as written, then the five total_token_usage values, separated by '|'.
 * Returns the length written (snprintf semantics).
 */
int am_codex_dedup_key(const char *ts, uint64_t input, uint64_t cached, uint64_t output,
		       uint64_t reasoning, uint64_t total, char *ret_buf, size_t size);

#endif
