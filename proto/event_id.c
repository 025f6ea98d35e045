/* event_id.c: deterministic event ids; see event_id.h. */
#include "event_id.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

/*
 * The digest is fetched once and each thread keeps one context: the agent
 * makes an id for every response it reads, and a fetch plus a context
 * allocation per call cost more than the hashing itself.
 */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_MD_CTX *thread_ctx;

static void
sha256_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
am_event_id(const char *tool, const void *key, size_t key_len, uint8_t ret_id[16])
{
	static const char domain[] = AM_EVENT_ID_DOMAIN;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	size_t tool_len = strlen(tool);

	/* Only a broken OpenSSL install fails here; the id is then all zeros,
	 * which no real key produces, rather than uninitialised memory. */
	memset(ret_id, 0, 16);
	(void)pthread_once(&sha256_once, sha256_fetch);
	if (thread_ctx == NULL) {
		thread_ctx = EVP_MD_CTX_new();
	}
	if (sha256 == NULL || thread_ctx == NULL) {
		return;
	}
	if (EVP_DigestInit_ex(thread_ctx, sha256, NULL) == 1 &&
	    EVP_DigestUpdate(thread_ctx, domain, sizeof(domain)) == 1 && /* includes the NUL */
	    EVP_DigestUpdate(thread_ctx, tool, tool_len + 1) == 1 &&     /* includes the NUL */
	    EVP_DigestUpdate(thread_ctx, key, key_len) == 1 &&
	    EVP_DigestFinal_ex(thread_ctx, digest, &digest_len) == 1) {
		memcpy(ret_id, digest, 16);
	}
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
