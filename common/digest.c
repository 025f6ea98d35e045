/* digest.c: SHA-256 and HMAC-SHA-256 through Nettle (see digest.h for why). */
#include "digest.h"

#include <nettle/hmac.h>

void
digest_sha256_init(struct digest_sha256 *c)
{
	sha256_init(&c->ctx);
}

void
digest_sha256_update(struct digest_sha256 *c, const void *p, size_t n)
{
	sha256_update(&c->ctx, n, p);
}

void
digest_sha256_final(struct digest_sha256 *c, uint8_t ret[DIGEST_SHA256_SIZE])
{
	sha256_digest(&c->ctx, DIGEST_SHA256_SIZE, ret);
}

void
digest_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t n,
		   uint8_t ret[DIGEST_SHA256_SIZE])
{
	struct hmac_sha256_ctx c;

	hmac_sha256_set_key(&c, key_len, key);
	hmac_sha256_update(&c, n, msg);
	hmac_sha256_digest(&c, DIGEST_SHA256_SIZE, ret);
}
