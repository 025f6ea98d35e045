/*
 * enroll.h: device enrollment and the credentials it leaves in the state dir.
 *
 * The first start sends an EnrollRequest (the organisation's enrollment
 * secret, hostname, OS, agent version, team hint) to POST /v1/enroll; the
 * EnrollResponse gives a device id, a device token (shown once) and the
 * organisation's project-label key. The token lives in
 * <state_dir>/device.token and the key in the project key file (by default
 * <state_dir>/project.key, the file `scan` reads, as lowercase hex: the
 * file's bytes are the key, as with the key `scan` makes before enrollment),
 * both mode 0600, written atomically. A 401 later removes the token and the agent enrolls again.
 */
#ifndef AM_ENROLL_H
#define AM_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#define ENROLL_TOKEN_MAX 256
#define ENROLL_KEY_MAX 256

struct enroll_creds {
	char device_id[64];
	char token[ENROLL_TOKEN_MAX];
	uint8_t key[ENROLL_KEY_MAX];
	size_t key_len;
	uint32_t max_schema; /* EnrollResponse.max_schema_version: 0 from an older collector */
};

struct enroll_info {
	const char *secret; /* borrowed */
	const char *hostname;
	const char *os;
	const char *agent_version;
	const char *team_hint;
};

/*
 * enroll_request_encode(info, ret_body, ret_len): the packed EnrollRequest;
 * *ret_body is malloc'd, caller frees. Returns 0 or -ENOMEM.
 */
int enroll_request_encode(const struct enroll_info *info, uint8_t **ret_body, size_t *ret_len);

/*
 * enroll_response_decode(buf, len, ret_creds): parse an EnrollResponse (plain
 * protobuf, or one zstd frame of it). Returns 0, or -EBADMSG with a reason in
 * ret_creds->device_id left empty.
 */
int enroll_response_decode(const uint8_t *buf, size_t len, struct enroll_creds *ret_creds);

/*
 * enroll_save(state_dir, key_file, creds): write device.token (device id and
 * token) and the key file (NULL: <state_dir>/project.key), mode 0600, each
 * through a temporary file, fsync and rename. Returns 0 or a negative errno.
 */
int enroll_save(const char *state_dir, const char *key_file, const struct enroll_creds *creds);

/*
 * enroll_load(state_dir, ret_creds): read device.token (the key is not
 * needed by the shipper). Returns 0, -ENOENT when not enrolled, -EPERM when
 * group or others can read it, -EBADMSG when it is malformed.
 */
int enroll_load(const char *state_dir, struct enroll_creds *ret_creds);

/* enroll_forget(state_dir): remove device.token (after a 401); keeps the key. */
int enroll_forget(const char *state_dir);

/*
 * enroll_secret_read(path, ret_buf, size): read an enrollment secret file
 * (first line, trimmed); refuses a file group or others can read.
 * Returns 0 or a negative errno.
 */
int enroll_secret_read(const char *path, char *ret_buf, size_t size);

#endif
