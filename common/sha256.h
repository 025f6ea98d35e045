/*
 * sha256.h: SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), in-tree.
 *
 * Why not OpenSSL: the agent hashes only short keys (event ids, project
 * labels), and loading and initialising libcrypto for that cost it 3.4 MB
 * of its 12 MB peak RSS in a full scan. Nothing here is secret-dependent in
 * timing beyond what HMAC over a label key needs (no table lookups).
 * Checked against the FIPS 180-4 and RFC 4231 vectors (test-common-sha256).
 */
#ifndef AM_COMMON_SHA256_H
#define AM_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_SIZE 32
#define SHA256_BLOCK 64

struct sha256 {
	uint32_t h[8];
	uint64_t n_bytes;      /* message bytes so far */
	uint8_t buf[SHA256_BLOCK];
	size_t buf_len;
};

/* sha256_init(c)/sha256_update(c, p, n)/sha256_final(c, ret): caller memory. */
void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *p, size_t n);
void sha256_final(struct sha256 *c, uint8_t ret[SHA256_SIZE]);

/* sha256_hmac(key, key_len, msg, n, ret): HMAC-SHA-256 of msg under key. */
void sha256_hmac(const void *key, size_t key_len, const void *msg, size_t n,
		 uint8_t ret[SHA256_SIZE]);

#endif
