/* test-identity.c: normalisation and the keyed identity hash (golden vector). */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity.h"
#include "test.h"

TEST(normalize)
{
	char out[64];

	ASSERT_EQ(identity_normalize("  Dana.Kowalski@Example.COM\n", out, sizeof(out)), 25);
	ASSERT_STR_EQ(out, "dana.kowalski@example.com");
	ASSERT_EQ(identity_normalize("abc", out, 3), -1);
}

TEST(hmac_golden)
{
	/* python3: hmac.new(b"k"*32, b"dana@example.com", "sha256").hexdigest() */
	static const uint8_t key[32] = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
	uint8_t a[32], b[32];
	char hex[65];

	ASSERT_EQ(identity_hmac(key, 32, "Dana@Example.com ", a), 0);
	ASSERT_EQ(identity_hmac(key, 32, "dana@example.com", b), 0);
	ASSERT(memcmp(a, b, 32) == 0);
	for (int i = 0; i < 32; i++) {
		snprintf(hex + 2 * i, 3, "%02x", a[i]);
	}
	ASSERT_STR_EQ(hex, "6ff151dfcb82e32867ebe1e298a3567dab92dca5df21a6611b8cf2b45dfbd4ab");
}

TEST(key_file_secrecy)
{
	char path[] = "/tmp/am-key-XXXXXX";
	uint8_t key[256];
	size_t len;
	char err[256];
	int fd = mkstemp(path);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "0123456789abcdef0123456789abcdef\n", 33), 33);
	close(fd);
	ASSERT_EQ(chmod(path, 0600), 0);
	ASSERT_EQ(identity_key_load(path, key, &len, err, sizeof(err)), 0);
	ASSERT_EQ(len, 32);
	ASSERT_EQ(chmod(path, 0640), 0);
	ASSERT_EQ(identity_key_load(path, key, &len, err, sizeof(err)), -1);
	ASSERT(strstr(err, "group or others") != NULL);
	unlink(path);
}

int
main(void)
{
	RUN(normalize);
	RUN(hmac_golden);
	RUN(key_file_secrecy);
	return 0;
}
