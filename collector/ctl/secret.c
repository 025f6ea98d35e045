/* secret.c: new bearer secrets for aimeterctl (enrollment, OTLP); see ctl.h. */
#include "ctl.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "hex.h"

#define SECRET_RANDOM 33 /* 264 bits: 44 base64url characters */

int
ctl_secret_new(const char *prefix, char *ret, size_t size, char ret_hash_hex[65])
{
	static const char b64url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t rnd[SECRET_RANDOM], hash[SHA256_DIGEST_LENGTH];
	size_t n = strlen(prefix);

	if (size < n + SECRET_RANDOM / 3 * 4 + 1) {
		fprintf(stderr, "aimeterctl: secret buffer too small\n");
		return -1;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		fprintf(stderr, "aimeterctl: could not make a secret: no randomness\n");
		return -1;
	}
	/* A prefix secret scanners can spot, then the random bits. */
	memcpy(ret, prefix, n);
	for (size_t i = 0; i < sizeof(rnd); i += 3) {
		uint32_t v = (uint32_t)rnd[i] << 16 | (uint32_t)rnd[i + 1] << 8 | rnd[i + 2];
		for (int k = 3; k >= 0; k--) {
			ret[n++] = b64url[(v >> (6 * k)) & 63];
		}
	}
	ret[n] = '\0';
	SHA256((const unsigned char *)ret, n, hash);
	hex_encode(hash, sizeof(hash), ret_hash_hex);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}
