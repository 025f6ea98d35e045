/* event_id.c: deterministic event ids; see event_id.h. */
#include "event_id.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "digest.h"

void
am_event_id(const char *tool, const void *key, size_t key_len, uint8_t ret_id[16])
{
	static const char domain[] = AM_EVENT_ID_DOMAIN;
	uint8_t digest[DIGEST_SHA256_SIZE];
	struct digest_sha256 c;

	digest_sha256_init(&c);
	digest_sha256_update(&c, domain, sizeof(domain));   /* includes the NUL */
	digest_sha256_update(&c, tool, strlen(tool) + 1); /* includes the NUL */
	digest_sha256_update(&c, key, key_len);
	digest_sha256_final(&c, digest);
	memcpy(ret_id, digest, 16);
}

void
am_event_id_hex(const uint8_t id[16], char ret_hex[33])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		ret_hex[2 * i] = digits[id[i] >> 4];
		ret_hex[2 * i + 1] = digits[id[i] & 0xf];
	}
	ret_hex[32] = '\0';
}

int
am_codex_dedup_key(const char *ts, uint64_t input, uint64_t cached, uint64_t output,
		   uint64_t reasoning, uint64_t total, char *ret_buf, size_t size)
{
	return snprintf(ret_buf, size, "%s|%" PRIu64 "|%" PRIu64 "|%" PRIu64 "|%" PRIu64
			"|%" PRIu64, ts, input, cached, output, reasoning, total);
}
