/* event_id.c: deterministic event ids; see event_id.h. */
#include "event_id.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

void
am_event_id(const char *tool, const void *key, size_t key_len, uint8_t ret_id[16])
{
	static const char domain[] = AM_EVENT_ID_DOMAIN;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *ctx;
	size_t tool_len = strlen(tool);

	ctx = EVP_MD_CTX_new();
	/* Without a context there is no id; an all-zero id is then rejected by
	 * the decoder's checks rather than silently colliding. */
	memset(ret_id, 0, 16);
	if (ctx == NULL) {
		return;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, domain, sizeof(domain)) == 1 && /* includes the NUL */
	    EVP_DigestUpdate(ctx, tool, tool_len + 1) == 1 &&     /* includes the NUL */
	    EVP_DigestUpdate(ctx, key, key_len) == 1 &&
	    EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1) {
		memcpy(ret_id, digest, 16);
	}
	EVP_MD_CTX_free(ctx);
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
