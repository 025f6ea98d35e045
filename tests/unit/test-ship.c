/*
 * test-ship.c: the enrollment half of shipping on real files: request and
 * response codecs, credentials written 0600 and refused when readable by
 * others, the key `scan` reads, and forgetting a refused token.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "enroll.h"
#include "batch.h"
#include "test.h"

static char dir[256];

static void
make_dir(void)
{
	strcpy(dir, "/tmp/test-ship.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
}

static void
remove_dir(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

static size_t
pack_response(const char *id, const char *token, const uint8_t *key, size_t key_len, uint8_t *buf)
{
	Aimeter__V1__EnrollResponse r = AIMETER__V1__ENROLL_RESPONSE__INIT;
	r.device_id = (char *)id;
	r.device_token = (char *)token;
	r.project_label_key.data = (uint8_t *)key;
	r.project_label_key.len = key_len;
	return aimeter__v1__enroll_response__pack(&r, buf);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;
	ASSERT_EQ(stat(path, &st), 0);
	return st.st_mode & 0777;
}

TEST(request_round_trip)
{
	struct enroll_info info = {"s3cret", "host-1", "linux", "0.1.0", "platform"};
	Aimeter__V1__EnrollRequest *req;
	uint8_t *body;
	size_t len;

	ASSERT_EQ(enroll_request_encode(&info, &body, &len), 0);
	req = aimeter__v1__enroll_request__unpack(NULL, len, body);
	ASSERT_NOT_NULL(req);
	ASSERT_STR_EQ(req->enrollment_secret, "s3cret");
	ASSERT_STR_EQ(req->hostname, "host-1");
	ASSERT_STR_EQ(req->team_hint, "platform");
	aimeter__v1__enroll_request__free_unpacked(req, NULL);
	free(body);
}

TEST(response_decode)
{
	uint8_t buf[1024], z[2048], key[32];
	struct enroll_creds c;
	size_t n;

	memset(key, 0xab, sizeof(key));
	n = pack_response("3859d572-6f23-49dd-b663-f3332698e85f", "tok123", key, 32, buf);
	ASSERT_EQ(enroll_response_decode(buf, n, &c), 0);
	ASSERT_STR_EQ(c.device_id, "3859d572-6f23-49dd-b663-f3332698e85f");
	ASSERT_STR_EQ(c.token, "tok123");
	ASSERT_EQ(c.key_len, 32);
	/* one zstd frame of it is accepted too */
	size_t zn = ZSTD_compress(z, sizeof(z), buf, n, 1);
	ASSERT(!ZSTD_isError(zn));
	ASSERT_EQ(enroll_response_decode(z, zn, &c), 0);
	ASSERT_STR_EQ(c.token, "tok123");
	/* no token, a token with a space or a newline, garbage: refused */
	n = pack_response("id", "", key, 32, buf);
	ASSERT_EQ(enroll_response_decode(buf, n, &c), -EBADMSG);
	n = pack_response("id", "a b", key, 32, buf);
	ASSERT_EQ(enroll_response_decode(buf, n, &c), -EBADMSG);
	n = pack_response("id", "a\nb", key, 32, buf);
	ASSERT_EQ(enroll_response_decode(buf, n, &c), -EBADMSG);
	ASSERT_EQ(enroll_response_decode((const uint8_t *)"\xff\xff\xff", 3, &c), -EBADMSG);
	ASSERT_EQ(c.token[0], '\0');
}

TEST(credentials_on_disk)
{
	struct enroll_creds c = {0}, back;
	char path[512], hex[65];
	FILE *f;

	make_dir();
	strcpy(c.device_id, "dev-1");
	strcpy(c.token, "t0ken");
	for (int i = 0; i < 32; i++) {
		c.key[i] = (uint8_t)i;
	}
	c.key_len = 32;
	ASSERT_EQ(enroll_load(dir, &back), -ENOENT);
	ASSERT_EQ(enroll_save(dir, NULL, &c), 0);
	snprintf(path, sizeof(path), "%s/device.token", dir);
	ASSERT_EQ(mode_of(path), 0600);
	ASSERT_EQ(enroll_load(dir, &back), 0);
	ASSERT_STR_EQ(back.device_id, "dev-1");
	ASSERT_STR_EQ(back.token, "t0ken");
	/* the key `scan` reads: hex, 0600, in the default place */
	snprintf(path, sizeof(path), "%s/project.key", dir);
	ASSERT_EQ(mode_of(path), 0600);
	f = fopen(path, "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(hex, sizeof(hex), f));
	fclose(f);
	ASSERT_EQ(strncmp(hex, "000102030405", 12), 0);
	ASSERT_EQ(strlen(hex), 64);
	/* readable by others: refused */
	snprintf(path, sizeof(path), "%s/device.token", dir);
	ASSERT_EQ(chmod(path, 0644), 0);
	ASSERT_EQ(enroll_load(dir, &back), -EPERM);
	ASSERT_EQ(chmod(path, 0600), 0);
	/* a 401 forgets the token, keeps the key */
	ASSERT_EQ(enroll_forget(dir), 0);
	ASSERT_EQ(enroll_load(dir, &back), -ENOENT);
	snprintf(path, sizeof(path), "%s/project.key", dir);
	ASSERT_EQ(access(path, F_OK), 0);
	ASSERT_EQ(enroll_forget(dir), 0);
	remove_dir();
}

TEST(secret_file)
{
	char path[512], buf[128];
	FILE *f;

	make_dir();
	snprintf(path, sizeof(path), "%s/secret", dir);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs("abc123\n", f);
	fclose(f);
	ASSERT_EQ(chmod(path, 0640), 0);
	ASSERT_EQ(enroll_secret_read(path, buf, sizeof(buf)), -EPERM);
	ASSERT_EQ(chmod(path, 0600), 0);
	ASSERT_EQ(enroll_secret_read(path, buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "abc123");
	remove_dir();
}

int
main(void)
{
	RUN(request_round_trip);
	RUN(response_decode);
	RUN(credentials_on_disk);
	RUN(secret_file);
	return 0;
}
