/*
 * test-common-json-writer.c: the bytes the JSON writer produces for every
 * control character, quotes, backslash, non-ASCII and invalid UTF-8; numbers;
 * nesting and commas; the maximum, and what is left when it is reached.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json-writer.h"
#include "test.h"

/* The string literal the writer makes of s[0..n). */
static void
expect_string(const char *s, size_t n, const char *want)
{
	struct jw w;

	jw_init(&w, NULL, 0, 1024);
	ASSERT_EQ(jw_stringn(&w, s, n), 0);
	ASSERT_STR_EQ(jw_data(&w), want);
	ASSERT_UINT_EQ(jw_len(&w), strlen(want));
	jw_finish(&w);
}

#define EXPECT(lit, want) expect_string((lit), sizeof(lit) - 1, (want))
#define FFFD "\xef\xbf\xbd"

TEST(every_control_character)
{
	for (unsigned c = 0; c < 0x20; c++) {
		char in = (char)c, want[16];
		switch (c) {
		case '\b':
			snprintf(want, sizeof(want), "\"\\b\"");
			break;
		case '\f':
			snprintf(want, sizeof(want), "\"\\f\"");
			break;
		case '\n':
			snprintf(want, sizeof(want), "\"\\n\"");
			break;
		case '\r':
			snprintf(want, sizeof(want), "\"\\r\"");
			break;
		case '\t':
			snprintf(want, sizeof(want), "\"\\t\"");
			break;
		default:
			snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		}
		expect_string(&in, 1, want);
	}
	EXPECT("\x1f", "\"\\u001f\"");
	EXPECT("\x7f", "\"\x7f\""); /* DEL needs no escape */
}

TEST(quotes_backslash_and_ascii)
{
	EXPECT("", "\"\"");
	EXPECT("plain text / slash", "\"plain text / slash\"");
	EXPECT("\"", "\"\\\"\"");
	EXPECT("\\", "\"\\\\\"");
	EXPECT("a\"b\\c\nd", "\"a\\\"b\\\\c\\nd\"");
	EXPECT("\\u0041", "\"\\\\u0041\""); /* an escape in the input is text */
	EXPECT("a\0b", "\"a\\u0000b\"");    /* jw_stringn keeps NULs */
}

/* Every byte at every place of a 16-byte string: the 8-byte scan misses none. */
TEST(every_byte_at_every_position)
{
	for (unsigned c = 0; c < 256; c++) {
		for (size_t pos = 0; pos < 16; pos++) {
			char in[16], want[64];
			size_t k = 0;
			struct jw w;

			memset(in, 'a', sizeof(in));
			in[pos] = (char)c;
			want[k++] = '"';
			for (size_t i = 0; i < sizeof(in); i++) {
				unsigned char b = (unsigned char)in[i];
				if (b >= 0x80) {
					memcpy(want + k, FFFD, 3); /* alone, never valid UTF-8 */
					k += 3;
				} else if (b == '"' || b == '\\') {
					want[k++] = '\\';
					want[k++] = (char)b;
				} else if (b < 0x20) {
					k += (size_t)snprintf(want + k, 7, "\\u%04x", b);
				} else {
					want[k++] = (char)b;
				}
			}
			want[k++] = '"';
			jw_init(&w, NULL, 0, 1024);
			ASSERT_EQ(jw_stringn(&w, in, sizeof(in)), 0);
			if (c >= 0x20 || strchr("\b\f\n\r\t", (int)c) == NULL || c == 0) {
				ASSERT_UINT_EQ(jw_len(&w), k);
				ASSERT(memcmp(jw_data(&w), want, k) == 0);
			} else {
				ASSERT_UINT_EQ(jw_len(&w), 16 + 2 + 1); /* a short form */
			}
			jw_finish(&w);
		}
	}
}

TEST(valid_utf8_passes_through)
{
	EXPECT("caf\xc3\xa9", "\"caf\xc3\xa9\"");                  /* 2 bytes */
	EXPECT("\xe2\x82\xac", "\"\xe2\x82\xac\"");                /* 3 bytes */
	EXPECT("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");        /* 4 bytes */
	EXPECT("\xc2\x80", "\"\xc2\x80\"");                        /* U+0080, lowest 2-byte */
	EXPECT("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");                /* U+0800 */
	EXPECT("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");                /* U+D7FF, below surrogates */
	EXPECT("\xee\x80\x80", "\"\xee\x80\x80\"");                /* U+E000, above them */
	EXPECT("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");                /* U+FFFF */
	EXPECT("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");        /* U+10FFFF */
	EXPECT("\xe2\x80\xa8", "\"\xe2\x80\xa8\"");                /* U+2028 is valid JSON */
}

/* One U+FFFD per maximal ill-formed subpart (Unicode 15 table 3-8 and its neighbours). */
TEST(invalid_utf8_replaced)
{
	EXPECT("\x80", "\"" FFFD "\"");                       /* lone continuation */
	EXPECT("a\xbf" "b", "\"a" FFFD "b\"");
	EXPECT("\xc0\xaf", "\"" FFFD FFFD "\"");              /* overlong '/' */
	EXPECT("\xc1\xbf", "\"" FFFD FFFD "\"");
	EXPECT("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");     /* overlong 3-byte */
	EXPECT("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
	EXPECT("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");     /* a surrogate (CESU-8) */
	EXPECT("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* past U+10FFFF */
	EXPECT("\xf5\xbf", "\"" FFFD FFFD "\"");
	EXPECT("\xff\xfe", "\"" FFFD FFFD "\"");
	EXPECT("\xe2\x82", "\"" FFFD "\"");                   /* cut short: one subpart */
	EXPECT("\xe2\x82" "a", "\"" FFFD "a\"");
	EXPECT("\xf0\x9f\x98", "\"" FFFD "\"");
	EXPECT("\xf0\x9f\x98\"", "\"" FFFD "\\\"\"");        /* the byte after is kept */
	EXPECT("\xc3", "\"" FFFD "\"");
	EXPECT("\xc3\xc3\xa9", "\"" FFFD "\xc3\xa9\"");
	/* Unicode 15, table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 */
	EXPECT("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	       "\"a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d\"");
}

TEST(keys_and_nesting)
{
	struct jw w;

	jw_init(&w, NULL, 0, 4096);
	ASSERT_EQ(jw_object_begin(&w), 0);
	ASSERT_EQ(jw_key(&w, "a\"b"), 0);
	ASSERT_EQ(jw_array_begin(&w), 0);
	ASSERT_EQ(jw_int(&w, 1), 0);
	ASSERT_EQ(jw_array_begin(&w), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_EQ(jw_object_begin(&w), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_EQ(jw_null(&w), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_EQ(jw_key(&w, "t"), 0);
	ASSERT_EQ(jw_bool(&w, true), 0);
	ASSERT_EQ(jw_key(&w, "f"), 0);
	ASSERT_EQ(jw_bool(&w, false), 0);
	ASSERT_EQ(jw_key(&w, "o"), 0);
	ASSERT_EQ(jw_object_begin(&w), 0);
	ASSERT_EQ(jw_key(&w, "s"), 0);
	ASSERT_EQ(jw_string(&w, "x"), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_STR_EQ(jw_data(&w),
		      "{\"a\\\"b\":[1,[],{},null],\"t\":true,\"f\":false,\"o\":{\"s\":\"x\"}}");
	ASSERT_EQ(jw_error(&w), 0);
	jw_finish(&w);
}

TEST(misuse_is_refused)
{
	struct jw w;

	jw_init(&w, NULL, 0, 4096);
	ASSERT_EQ(jw_end(&w), -EINVAL); /* nothing open */
	jw_reset(&w);
	ASSERT_EQ(jw_object_begin(&w), 0);
	ASSERT_EQ(jw_int(&w, 1), -EINVAL); /* a value without a key */
	ASSERT_STR_EQ(jw_data(&w), "{");
	ASSERT_EQ(jw_key(&w, "k"), -EINVAL); /* sticky */
	jw_reset(&w);
	ASSERT_EQ(jw_array_begin(&w), 0);
	ASSERT_EQ(jw_key(&w, "k"), -EINVAL); /* a key in an array */
	jw_reset(&w);
	ASSERT_EQ(jw_object_begin(&w), 0);
	ASSERT_EQ(jw_key(&w, "k"), 0);
	ASSERT_EQ(jw_end(&w), -EINVAL); /* a key without its value */
	jw_reset(&w);
	ASSERT_EQ(jw_int(&w, 1), 0);
	ASSERT_EQ(jw_int(&w, 2), -EINVAL); /* one document per writer */
	ASSERT_STR_EQ(jw_data(&w), "1");
	jw_reset(&w);
	ASSERT_EQ(jw_array_begin(&w), 0);
	ASSERT_EQ(jw_end(&w), 0);
	jw_drain(&w);
	ASSERT_EQ(jw_object_begin(&w), -EINVAL); /* drained, still one document */
	jw_reset(&w);
	for (int i = 0; i < JW_DEPTH_MAX; i++) {
		ASSERT_EQ(jw_array_begin(&w), 0);
	}
	ASSERT_EQ(jw_array_begin(&w), -EINVAL);
	ASSERT_UINT_EQ(jw_len(&w), JW_DEPTH_MAX);
	jw_reset(&w);
	ASSERT_EQ(jw_error(&w), 0);
	ASSERT_UINT_EQ(jw_len(&w), 0);
	jw_finish(&w);
	jw_finish(&w); /* twice is fine */
}

/* One number as the writer prints it. */
static void
expect_number(int kind, int64_t i, uint64_t u, double d, const char *want)
{
	struct jw w;

	jw_init(&w, NULL, 0, 64);
	ASSERT_EQ(kind == 0 ? jw_int(&w, i) : kind == 1 ? jw_uint(&w, u) : jw_double(&w, d), 0);
	ASSERT_STR_EQ(jw_data(&w), want);
	jw_finish(&w);
}

TEST(numbers)
{
	struct jw w;

	expect_number(0, 0, 0, 0, "0");
	expect_number(0, -1, 0, 0, "-1");
	expect_number(0, INT64_MAX, 0, 0, "9223372036854775807");
	expect_number(0, INT64_MIN, 0, 0, "-9223372036854775808");
	expect_number(1, 0, UINT64_MAX, 0, "18446744073709551615");
	expect_number(2, 0, 0, 0.1, "0.1");
	expect_number(2, 0, 0, 1.0 / 3, "0.3333333333333333");
	expect_number(2, 0, 0, 3.0, "3");
	expect_number(2, 0, 0, -0.0, "-0");
	expect_number(2, 0, 0, 1e300, "1e+300");
	expect_number(2, 0, 0, 0.1 + 0.2, "0.30000000000000004"); /* needs all 17 */
	expect_number(2, 0, 0, 5e-324, "4.94065645841247e-324");
	jw_init(&w, NULL, 0, 64);
	ASSERT_EQ(jw_double(&w, NAN), -EDOM);
	ASSERT_EQ(jw_error(&w), -EDOM);
	jw_reset(&w);
	ASSERT_EQ(jw_double(&w, INFINITY), -EDOM);
	jw_reset(&w);
	ASSERT_EQ(jw_double(&w, -INFINITY), -EDOM);
	ASSERT_UINT_EQ(jw_len(&w), 0);
	jw_finish(&w);
}

TEST(number_text)
{
	static const char *const good[] = { "0", "-0", "12", "-3.5", "1e-05", "1E+20", "0.000001",
					    "123456789012345678901234567890.5" };
	static const char *const bad[] = { "", "-", "NaN", "Infinity", "-Infinity", "01", "1.",
					   ".5", "1e", "1e+", "+1", "0x1A", "1 ", " 1", "1.5.5" };
	struct jw w;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ASSERT(jw_number_valid(good[i]));
		jw_init(&w, NULL, 0, 64);
		ASSERT_EQ(jw_number_text(&w, good[i]), 0);
		ASSERT_STR_EQ(jw_data(&w), good[i]);
		jw_finish(&w);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT(!jw_number_valid(bad[i]));
		jw_init(&w, NULL, 0, 64);
		ASSERT_EQ(jw_number_text(&w, bad[i]), -EINVAL);
		ASSERT_UINT_EQ(jw_len(&w), 0);
		jw_finish(&w);
	}
}

/*
 * At the maximum the failing call adds nothing: the text ends at the last
 * call that fit, whatever the maximum, and never passes it.
 */
TEST(truncation_at_the_cap)
{
	static const char *const whole = "[\"ab\\n\",12,\"" FFFD "\"]";
	size_t ends[] = { 1, 7, 10, 16, 17 }; /* the text after each call */

	for (size_t max = 0; max <= strlen(whole) + 1; max++) {
		struct jw w;
		size_t want = 0;
		int r;

		jw_init(&w, NULL, 0, max);
		r = jw_array_begin(&w);
		if (r == 0) {
			r = jw_string(&w, "ab\n");
		}
		if (r == 0) {
			r = jw_int(&w, 12);
		}
		if (r == 0) {
			r = jw_string(&w, "\xff");
		}
		if (r == 0) {
			r = jw_end(&w);
		}
		for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]) && ends[i] <= max; i++) {
			want = ends[i];
		}
		ASSERT_EQ(r, max >= strlen(whole) ? 0 : -ENOBUFS);
		ASSERT_EQ(jw_error(&w), r);
		ASSERT_UINT_EQ(jw_len(&w), want);
		ASSERT_LE(jw_len(&w), max);
		ASSERT(strncmp(jw_data(&w), whole, want) == 0);
		ASSERT_EQ(jw_data(&w)[want], '\0');
		/* sticky: later calls change nothing */
		if (r < 0) {
			ASSERT_EQ(jw_null(&w), -ENOBUFS);
			ASSERT_EQ(jw_end(&w), -ENOBUFS);
			ASSERT_UINT_EQ(jw_len(&w), want);
		}
		jw_finish(&w);
	}
}

/* The caller's storage comes first; growing moves to the heap, up to max. */
TEST(caller_storage_then_heap)
{
	char small[8], big[600];
	struct jw w;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	jw_init(&w, small, sizeof(small), 1000);
	ASSERT_EQ(jw_string(&w, "abc"), 0);
	ASSERT(jw_data(&w) == small); /* still on the stack */
	jw_reset(&w);
	ASSERT_EQ(jw_string(&w, big), 0);
	ASSERT(jw_data(&w) != small);
	ASSERT_UINT_EQ(jw_len(&w), sizeof(big) + 1);
	jw_finish(&w);

	/* storage larger than max does not raise the maximum */
	jw_init(&w, big, sizeof(big), 4);
	ASSERT_EQ(jw_string(&w, "abcd"), -ENOBUFS);
	ASSERT_UINT_EQ(jw_len(&w), 0);
	jw_reset(&w);
	ASSERT_EQ(jw_string(&w, "ab"), 0);
	ASSERT_STR_EQ(jw_data(&w), "\"ab\"");
	jw_finish(&w);
}

TEST(lines_layout)
{
	struct jw w;

	jw_init(&w, NULL, 0, 4096);
	jw_set_lines(&w, 1);
	ASSERT_EQ(jw_array_begin(&w), 0);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(jw_object_begin(&w), 0);
		ASSERT_EQ(jw_key(&w, "a"), 0);
		ASSERT_EQ(jw_int(&w, i), 0);
		ASSERT_EQ(jw_key(&w, "b"), 0);
		ASSERT_EQ(jw_array_begin(&w), 0);
		ASSERT_EQ(jw_end(&w), 0);
		ASSERT_EQ(jw_end(&w), 0);
	}
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_STR_EQ(jw_data(&w), "[\n  {\"a\":0,\"b\":[]},\n  {\"a\":1,\"b\":[]}\n]");
	jw_reset(&w);
	ASSERT_EQ(jw_array_begin(&w), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_STR_EQ(jw_data(&w), "[]"); /* empty stays on one line */
	jw_reset(&w);
	jw_set_lines(&w, 2);
	ASSERT_EQ(jw_object_begin(&w), 0);
	ASSERT_EQ(jw_key(&w, "rows"), 0);
	ASSERT_EQ(jw_array_begin(&w), 0);
	ASSERT_EQ(jw_array_begin(&w), 0);
	ASSERT_EQ(jw_int(&w, 7), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_STR_EQ(jw_data(&w), "{\"rows\":[\n  [7]\n]}"); /* objects stay inline */
	jw_finish(&w);
}

/* Draining between rows streams a document larger than max, row by row. */
TEST(drain_streams_pieces)
{
	char all[256] = "";
	struct jw w;

	jw_init(&w, NULL, 0, 16);
	jw_set_lines(&w, 1);
	ASSERT_EQ(jw_array_begin(&w), 0);
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ(jw_object_begin(&w), 0);
		ASSERT_EQ(jw_key(&w, "i"), 0);
		ASSERT_EQ(jw_int(&w, i), 0);
		ASSERT_EQ(jw_end(&w), 0);
		strcat(all, jw_data(&w));
		jw_drain(&w);
	}
	ASSERT_EQ(jw_end(&w), 0);
	strcat(all, jw_data(&w));
	ASSERT_STR_EQ(all, "[\n  {\"i\":0},\n  {\"i\":1},\n  {\"i\":2},\n  {\"i\":3},\n  {\"i\":4}\n]");
	ASSERT_GT(strlen(all), 16);
	jw_finish(&w);
}

TEST(raw_values)
{
	struct jw w;

	jw_init(&w, NULL, 0, 64);
	ASSERT_EQ(jw_array_begin(&w), 0);
	ASSERT_EQ(jw_raw(&w, "{\"a\": [1]}", 10), 0);
	ASSERT_EQ(jw_number_text(&w, "-3.5"), 0);
	ASSERT_EQ(jw_end(&w), 0);
	ASSERT_STR_EQ(jw_data(&w), "[{\"a\": [1]},-3.5]");
	jw_finish(&w);
}

int
main(void)
{
	RUN(every_control_character);
	RUN(quotes_backslash_and_ascii);
	RUN(every_byte_at_every_position);
	RUN(valid_utf8_passes_through);
	RUN(invalid_utf8_replaced);
	RUN(keys_and_nesting);
	RUN(misuse_is_refused);
	RUN(numbers);
	RUN(number_text);
	RUN(truncation_at_the_cap);
	RUN(caller_storage_then_heap);
	RUN(lines_layout);
	RUN(drain_streams_pieces);
	RUN(raw_values);
	return 0;
}
