/*
 * digest.h: SHA-256 and HMAC-SHA-256 for event ids, identities and project
 * labels, through Nettle.
 *
 * Why Nettle and not OpenSSL here: the agent hashes only short keys, and
 * loading and initialising libcrypto for that cost it 3.4 MB of a 12 MB
 * peak in a full scan; Nettle is a small, well-kept library (Debian's is
 * built "fat": it uses the CPU's SHA instructions where they exist).
 */
#ifndef AM_COMMON_DIGEST_H
#define AM_COMMON_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

#define DIGEST_SHA256_SIZE SHA256_DIGEST_SIZE

struct digest_sha256 {
	struct sha256_ctx ctx;
};

/* digest_sha256_init(c)/_update(c, p, n)/_final(c, ret): caller memory. */
void digest_sha256_init(struct digest_sha256 *c);
void digest_sha256_update(struct digest_sha256 *c, const void *p, size_t n);
void digest_sha256_final(struct digest_sha256 *c, uint8_t ret[DIGEST_SHA256_SIZE]);

/* digest_hmac_sha256(key, key_len, msg, n, ret): HMAC-SHA-256 of msg under key. */
void digest_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t n,
			uint8_t ret[DIGEST_SHA256_SIZE]);

#endif
