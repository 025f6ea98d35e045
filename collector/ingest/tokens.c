/* tokens.c: the device token cache; see tokens.h. */
#include "tokens.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static unsigned
slot_of(const uint8_t hash[32])
{
	uint32_t h;

	memcpy(&h, hash, sizeof(h));
	return h % TOKENS_SLOTS;
}

const struct tokens_entry *
tokens_get(const struct tokens *t, const uint8_t hash[32], uint64_t now_ns)
{
	const struct tokens_entry *e = &t->slots[slot_of(hash)];

	if (e->expires_ns != 0 && e->expires_ns > now_ns && memcmp(e->token_hash, hash, 32) == 0) {
		return e;
	}
	return NULL;
}

void
tokens_put(struct tokens *t, const uint8_t hash[32], const char *device_id,
	   const char *team_hint, uint64_t ttl_ms, uint64_t now_ns)
{
	struct tokens_entry *e = &t->slots[slot_of(hash)];

	if (ttl_ms == 0) {
		return;
	}
	if (ttl_ms > TOKENS_TTL_MAX_MS) {
		ttl_ms = TOKENS_TTL_MAX_MS;
	}
	memcpy(e->token_hash, hash, 32);
	snprintf(e->device_id, sizeof(e->device_id), "%s", device_id);
	snprintf(e->team_hint, sizeof(e->team_hint), "%s", team_hint);
	e->expires_ns = now_ns + ttl_ms * 1000000ull;
}

unsigned
tokens_revoke(struct tokens *t, const char *device_id)
{
	unsigned purged = 0;

	for (unsigned i = 0; i < TOKENS_SLOTS; i++) {
		struct tokens_entry *e = &t->slots[i];
		if (e->expires_ns != 0 && strcmp(e->device_id, device_id) == 0) {
			OPENSSL_cleanse(e, sizeof(*e));
			purged++;
		}
	}
	return purged;
}
