/*
 * tokens.h: a bounded cache from device token hash to device, so a batch
 * of a known device costs no database lookup. Entries expire after a TTL
 * and are purged at once when the device is revoked (NOTIFY). Pure: the
 * caller passes the time.
 */
#ifndef AM_COLLECTOR_TOKENS_H
#define AM_COLLECTOR_TOKENS_H

#include <stdint.h>

#define TOKENS_SLOTS 512
/* Revocation purges the cache at once (NOTIFY); this caps an entry's life
 * when a notification is lost (a dropped connection). */
#define TOKENS_TTL_MAX_MS 60000

struct tokens_entry {
	uint8_t token_hash[32];
	char device_id[40];
	char team_hint[128]; /* of the enrollment secret (aimeterctl enroll-token --team) */
	uint64_t expires_ns; /* 0: empty */
};

struct tokens {
	struct tokens_entry slots[TOKENS_SLOTS];
};

/* tokens_get(t, hash, now_ns): the live entry of hash, or NULL. */
const struct tokens_entry *tokens_get(const struct tokens *t, const uint8_t hash[32],
				      uint64_t now_ns);

/*
 * tokens_put(t, hash, device_id, team_hint, ttl_ms, now_ns): remember hash
 * for ttl_ms (capped at TOKENS_TTL_MAX_MS; 0: do not cache), replacing
 * whatever shared its slot.
 */
void tokens_put(struct tokens *t, const uint8_t hash[32], const char *device_id,
		const char *team_hint, uint64_t ttl_ms, uint64_t now_ns);

/* tokens_revoke(t, device_id): wipe every entry of device_id; returns how many. */
unsigned tokens_revoke(struct tokens *t, const char *device_id);

#endif
