/* test-common-hex.c: hex decoding takes digit pairs only; encoding round-trips. */
#include <errno.h>
#include <string.h>

#include "hex.h"
#include "test.h"

TEST(decodes_both_cases)
{
	uint8_t out[4];
	size_t n = 99;

	ASSERT_EQ(hex_decode("00fFa5", out, sizeof(out), &n), 0);
	ASSERT_UINT_EQ(n, 3);
	ASSERT_EQ(out[0], 0x00);
	ASSERT_EQ(out[1], 0xff);
	ASSERT_EQ(out[2], 0xa5);
	ASSERT_EQ(hex_decode("", out, sizeof(out), &n), 0);
	ASSERT_UINT_EQ(n, 0);
}

TEST(refuses_bad_text)
{
	uint8_t out[4];
	size_t n;

	ASSERT_EQ(hex_decode("abc", out, sizeof(out), &n), -EINVAL);
	ASSERT_EQ(hex_decode("zz", out, sizeof(out), &n), -EINVAL);
	ASSERT_EQ(hex_decode(" f", out, sizeof(out), &n), -EINVAL); /* sscanf took this */
	ASSERT_EQ(hex_decode("+f", out, sizeof(out), &n), -EINVAL);
	ASSERT_EQ(hex_decode("0x", out, sizeof(out), &n), -EINVAL);
	ASSERT_EQ(hex_decode("0011223344", out, sizeof(out), &n), -ENOSPC);
}

TEST(round_trip)
{
	uint8_t in[256], back[256];
	char text[513];
	size_t n;

	for (int i = 0; i < 256; i++) {
		in[i] = (uint8_t)i;
	}
	hex_encode(in, sizeof(in), text);
	ASSERT_UINT_EQ(strlen(text), 512);
	ASSERT_EQ(memcmp(text, "000102", 6), 0);
	ASSERT_EQ(hex_decode(text, back, sizeof(back), &n), 0);
	ASSERT_UINT_EQ(n, 256);
	ASSERT_EQ(memcmp(in, back, 256), 0);
}

int
main(void)
{
	RUN(decodes_both_cases);
	RUN(refuses_bad_text);
	RUN(round_trip);
	return 0;
}
