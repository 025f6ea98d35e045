/* identity.c: identity normalisation and keyed hashing; see identity.h. */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret-file.h"
#include "digest.h"

int
identity_normalize(const char *in, char *ret_out, size_t size)
{
	size_t start = 0, end = strlen(in), n;

	while (start < end && (in[start] == ' ' || in[start] == '\t' || in[start] == '\n' ||
			       in[start] == '\r')) {
		start++;
	}
	while (end > start && (in[end - 1] == ' ' || in[end - 1] == '\t' || in[end - 1] == '\n' ||
			       in[end - 1] == '\r')) {
		end--;
	}
	n = end - start;
	if (n + 1 > size) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = in[start + i];
		ret_out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	ret_out[n] = '\0';
	return (int)n;
}

int
identity_hmac(const uint8_t *key, size_t key_len, const char *identity,
	      uint8_t ret_mac[AM_IDENTITY_HMAC_LEN])
{
	char norm[1024];
	int n = identity_normalize(identity, norm, sizeof(norm));

	if (n < 0) {
		return -1;
	}
	_Static_assert(AM_IDENTITY_HMAC_LEN == DIGEST_SHA256_SIZE, "the identity MAC is a whole HMAC-SHA-256");
	digest_hmac_sha256(key, key_len, norm, (size_t)n, ret_mac);
	return 0;
}

int
identity_key_load(const char *path, uint8_t *ret_key, size_t *ret_len, char *ret_err,
		  size_t err_size)
{
	size_t n;

	if (secret_file_read(path, "person-key file", ret_key, 256, &n, ret_err, err_size) < 0) {
		return -1;
	}
	while (n > 0 && (ret_key[n - 1] == '\n' || ret_key[n - 1] == '\r')) {
		n--;
	}
	if (n < AM_IDENTITY_KEY_MIN) {
		snprintf(ret_err, err_size,
			 "person-key file \"%s\" holds %zu bytes; it needs at least %d "
			 "(e.g. openssl rand -hex 32)",
			 path, n, AM_IDENTITY_KEY_MIN);
		return -1;
	}
	*ret_len = (size_t)n;
	return 0;
}
