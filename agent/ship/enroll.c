/* enroll.c: see enroll.h. */
#include "enroll.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "batch.h"
#include "hex.h"
#include "secret-file.h"

int
enroll_request_encode(const struct enroll_info *info, uint8_t **ret_body, size_t *ret_len)
{
	Aimeter__V1__EnrollRequest req = AIMETER__V1__ENROLL_REQUEST__INIT;
	uint8_t *buf;
	size_t len;

	req.enrollment_secret = (char *)(info->secret ? info->secret : "");
	req.hostname = (char *)(info->hostname ? info->hostname : "");
	req.os = (char *)(info->os ? info->os : "");
	req.agent_version = (char *)(info->agent_version ? info->agent_version : "");
	req.team_hint = (char *)(info->team_hint ? info->team_hint : "");
	len = aimeter__v1__enroll_request__get_packed_size(&req);
	buf = malloc(len ? len : 1);
	if (buf == NULL) {
		return -ENOMEM;
	}
	aimeter__v1__enroll_request__pack(&req, buf);
	*ret_body = buf;
	*ret_len = len;
	return 0;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s <= ' ' || *s == 0x7f) {
			return false;
		}
	}
	return true;
}

int
enroll_response_decode(const uint8_t *buf, size_t len, struct enroll_creds *ret)
{
	Aimeter__V1__EnrollResponse *resp;
	uint8_t *plain = NULL;
	int r = -EBADMSG;

	memset(ret, 0, sizeof(*ret));
	if (len >= 4 && buf[0] == 0x28 && buf[1] == 0xb5 && buf[2] == 0x2f && buf[3] == 0xfd) {
		struct am_batch_status st;
		size_t plen;
		if (am_zstd_decompress(buf, len, &am_batch_default_limits, &plain, &plen, &st) < 0) {
			return -EBADMSG;
		}
		buf = plain;
		len = plen;
	}
	resp = aimeter__v1__enroll_response__unpack(NULL, len, buf);
	if (resp == NULL) {
		goto out;
	}
	if (resp->device_id == NULL || resp->device_token == NULL ||
	    strlen(resp->device_id) == 0 || strlen(resp->device_id) >= sizeof(ret->device_id) ||
	    strlen(resp->device_token) == 0 || strlen(resp->device_token) >= sizeof(ret->token) ||
	    !printable(resp->device_id) || !printable(resp->device_token) ||
	    resp->project_label_key.len > sizeof(ret->key)) {
		goto out;
	}
	strcpy(ret->device_id, resp->device_id);
	strcpy(ret->token, resp->device_token);
	memcpy(ret->key, resp->project_label_key.data, resp->project_label_key.len);
	ret->key_len = resp->project_label_key.len;
	ret->max_schema = resp->max_schema_version;
	r = 0;
out:
	if (resp != NULL) {
		aimeter__v1__enroll_response__free_unpacked(resp, NULL);
	}
	free(plain);
	if (r < 0) {
		memset(ret, 0, sizeof(*ret));
	}
	return r;
}

/* Write path atomically with mode 0600: temporary file, fsync, rename. */
static int
write_secret_file(const char *path, const void *data, size_t len)
{
	char tmp[4200];
	int fd, r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			r = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (r == 0 && fchmod(fd, 0600) < 0) {
		r = -errno;
	}
	if (r == 0 && fsync(fd) < 0) {
		r = -errno;
	}
	close(fd);
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
	}
	if (r < 0) {
		unlink(tmp);
	}
	return r;
}

int
enroll_save(const char *state_dir, const char *key_file, const struct enroll_creds *c)
{
	char path[4096], text[ENROLL_TOKEN_MAX + 128];
	int n, r;

	if (c->key_len > 0) {
		/* Hex, like the key `scan` makes on its own: the file's bytes are the key. */
		char hex[2 * ENROLL_KEY_MAX + 1];
		if (c->key_len > 128) {
			return -EMSGSIZE;
		}
		hex_encode(c->key, c->key_len, hex);
		if (key_file == NULL) {
			snprintf(path, sizeof(path), "%s/project.key", state_dir);
			key_file = path;
		}
		r = write_secret_file(key_file, hex, 2 * c->key_len);
		explicit_bzero(hex, sizeof(hex));
		if (r < 0) {
			return r;
		}
	}
	n = snprintf(text, sizeof(text), "%s\n%s\n", c->device_id, c->token);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		return -ENAMETOOLONG;
	}
	snprintf(path, sizeof(path), "%s/device.token", state_dir);
	r = write_secret_file(path, text, (size_t)n);
	explicit_bzero(text, sizeof(text));
	return r;
}

/* Reads a 0600 file into buf as a NUL-terminated string. */
static int
read_private(const char *path, char *buf, size_t size, size_t *ret_len)
{
	char err[512];
	int r = secret_file_read(path, "secret file", buf, size - 1, ret_len, err, sizeof(err));

	if (r < 0) {
		return r;
	}
	buf[*ret_len] = '\0';
	return 0;
}

int
enroll_load(const char *state_dir, struct enroll_creds *ret)
{
	char path[4096], text[ENROLL_TOKEN_MAX + 128];
	size_t len;
	char *nl, *tok, *end;
	int r;

	memset(ret, 0, sizeof(*ret));
	snprintf(path, sizeof(path), "%s/device.token", state_dir);
	r = read_private(path, text, sizeof(text), &len);
	if (r < 0) {
		return r;
	}
	nl = strchr(text, '\n');
	if (nl == NULL) {
		return -EBADMSG;
	}
	*nl = '\0';
	tok = nl + 1;
	end = strchr(tok, '\n');
	if (end != NULL) {
		*end = '\0';
	}
	if (text[0] == '\0' || tok[0] == '\0' || strlen(text) >= sizeof(ret->device_id) ||
	    strlen(tok) >= sizeof(ret->token)) {
		return -EBADMSG;
	}
	strcpy(ret->device_id, text);
	strcpy(ret->token, tok);
	explicit_bzero(text, sizeof(text));
	return 0;
}

int
enroll_forget(const char *state_dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/device.token", state_dir);
	if (unlink(path) < 0 && errno != ENOENT) {
		return -errno;
	}
	return 0;
}

int
enroll_secret_read(const char *path, char *buf, size_t size)
{
	size_t len;
	int r = read_private(path, buf, size, &len);

	if (r < 0) {
		return r;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] == '\0' ? -EBADMSG : 0;
}
