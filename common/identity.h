/*
 * identity.h: normalising user identities and their keyed hash.
 *
 * The database never stores an identity in an event row; it stores
 * HMAC-SHA-256(key, normalised identity), with the key in a 0600 file
 * outside the database. Both the collector and aimeterctl hash with this,
 * so an identity hashes the same whichever path an event took.
 */
#ifndef AM_IDENTITY_H
#define AM_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define AM_IDENTITY_HMAC_LEN 32
#define AM_IDENTITY_KEY_MIN 32

/*
 * identity_normalize(in, ret_out, size): trim surrounding white space and
 * lowercase ASCII letters (emails and logins compare case-insensitively).
 * Returns the normalised length, or -1 when it does not fit in size.
 */
int identity_normalize(const char *in, char *ret_out, size_t size);

/* identity_hmac(key, key_len, identity, ret_mac): HMAC of the normalised identity. */
int identity_hmac(const uint8_t *key, size_t key_len, const char *identity,
		  uint8_t ret_mac[AM_IDENTITY_HMAC_LEN]);

/*
 * identity_key_load(path, ret_key, ret_len, ret_err, err_size): read a key
 * file (32 to 256 bytes of text such as 64 hex digits; a trailing newline
 * is ignored) into ret_key, which holds
 * at least 256 bytes. Refuses what secret_file_read() refuses (a link, a
 * file group or others can read, a larger file), with a message that says
 * so. Returns 0 or -1.
 */
int identity_key_load(const char *path, uint8_t *ret_key, size_t *ret_len, char *ret_err,
		      size_t err_size);

#endif
