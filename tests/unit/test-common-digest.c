/*
 * test-common-digest.c: SHA-256 and HMAC-SHA-256 against the
 * FIPS 180-4 examples and RFC 4231 test cases, fed whole and in odd pieces
 * (every split crosses the 64-byte block and the 56-byte padding edge).
 */
#include <string.h>

#include "hex.h"
#include "digest.h"
#include "test.h"

static void
digest_hex(const void *p, size_t n, size_t piece, char ret[65])
{
	const unsigned char *s = p;
	uint8_t d[DIGEST_SHA256_SIZE];
	struct digest_sha256 c;

	digest_sha256_init(&c);
	while (n > 0) {
		size_t k = piece < n ? piece : n;
		digest_sha256_update(&c, s, k);
		s += k;
		n -= k;
	}
	digest_sha256_final(&c, d);
	hex_encode(d, sizeof(d), ret);
}

static void
check(const void *p, size_t n, const char *want)
{
	static const size_t pieces[] = {1, 3, 55, 56, 63, 64, 65, 1000, (size_t)-1};
	char hex[65];

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		digest_hex(p, n, pieces[i], hex);
		ASSERT_STR_EQ(hex, want);
	}
}

TEST(fips_examples)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check(two_blocks, strlen(two_blocks),
	      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(long_messages)
{
	static unsigned char buf[1000000];

	memset(buf, 'a', sizeof(buf));
	check(buf, sizeof(buf), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	for (size_t i = 0; i < 768; i++) {
		buf[i] = (unsigned char)i;
	}
	check(buf, 768, "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363");
}

static void
check_hmac(const void *key, size_t key_len, const char *msg, const char *want)
{
	uint8_t mac[DIGEST_SHA256_SIZE];
	char hex[65];

	digest_hmac_sha256(key, key_len, msg, strlen(msg), mac);
	hex_encode(mac, sizeof(mac), hex);
	ASSERT_STR_EQ(hex, want);
}

TEST(rfc4231)
{
	uint8_t key[131];

	memset(key, 0x0b, 20);
	check_hmac(key, 20, "Hi There",
		   "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	check_hmac("Jefe", 4, "what do ya want for nothing?",
		   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof(key)); /* longer than a block: hashed first */
	check_hmac(key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First",
		   "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

int
main(void)
{
	RUN(fips_examples);
	RUN(long_messages);
	RUN(rfc4231);
	return 0;
}
