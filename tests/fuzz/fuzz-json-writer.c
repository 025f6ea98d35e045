/*
 * fuzz-json-writer.c: any bytes through the JSON string escaper, checked by
 * jansson, which decodes independently:
 *   - the output parses as one JSON string;
 *   - valid UTF-8 input (as jansson judges it) reads back as the same bytes;
 *   - invalid input reads back as valid UTF-8 holding U+FFFD, no longer
 *     than three bytes per input byte, and writing that text again reads
 *     back unchanged (replacement is final);
 *   - as a key in a document cut at a maximum taken from the input, the
 *     text is a prefix of the uncut document, never longer than the maximum.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                  \
	do {                                                                                      \
		if (!(x)) {                                                                       \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

/* s[0..n) escaped alone; the decoded string (caller frees with json_decref). */
static json_t *
round_trip(const char *s, size_t n, struct jw *w)
{
	json_error_t err;
	json_t *v;

	jw_reset(w);
	CHECK(jw_stringn(w, s, n) == 0);
	v = json_loadb(jw_data(w), jw_len(w), JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	CHECK(v != NULL && json_is_string(v));
	return v;
}

/* U+FFFD somewhere in s[0..n) */
static int
has_replacement(const char *s, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++) {
		if (memcmp(s + i, "\xef\xbf\xbd", 3) == 0) {
			return 1;
		}
	}
	return 0;
}

/* The escaper as a key, nested, with the text cut at max; returns the writer's error. */
static int
document(struct jw *w, const char *s, size_t n, size_t max)
{
	char *key = strndup(s, n); /* keys are C strings: up to the first NUL */

	CHECK(key != NULL);
	jw_finish(w);
	jw_init(w, NULL, 0, max);
	jw_array_begin(w);
	jw_object_begin(w);
	jw_key(w, key);
	jw_stringn(w, s, n);
	jw_key(w, "n");
	jw_uint(w, n);
	jw_end(w);
	jw_end(w);
	free(key);
	return jw_error(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct jw w, cut;
	json_t *v, *again, *valid;
	size_t max = 16 + 6 * size, cut_max;
	const char *out;
	size_t out_len;

	jw_init(&w, NULL, 0, max); /* 6 bytes per input byte always fit */
	v = round_trip(s, size, &w);
	out = json_string_value(v);
	out_len = json_string_length(v);
	valid = json_stringn(s, size); /* NULL when jansson finds invalid UTF-8 */
	if (valid != NULL) {
		CHECK(out_len == size && memcmp(out, s, size) == 0);
		json_decref(valid);
	} else {
		char *copy = malloc(out_len + 1);
		CHECK(copy != NULL);
		memcpy(copy, out, out_len);
		CHECK(has_replacement(copy, out_len));
		CHECK(out_len <= 3 * size);
		again = round_trip(copy, out_len, &w);
		CHECK(json_string_length(again) == out_len &&
		      memcmp(json_string_value(again), copy, out_len) == 0);
		json_decref(again);
		valid = json_stringn(copy, out_len); /* jansson agrees it is UTF-8 now */
		CHECK(valid != NULL);
		json_decref(valid);
		free(copy);
	}
	json_decref(v);

	/* the whole document, then the same cut short */
	CHECK(document(&w, s, size, 2 * max + 64) == 0);
	v = json_loadb(jw_data(&w), jw_len(&w), JSON_ALLOW_NUL, NULL);
	CHECK(v != NULL && json_is_array(v));
	json_decref(v);
	cut_max = size > 0 ? (size_t)data[0] * size / 64 : 0;
	jw_init(&cut, NULL, 0, cut_max);
	if (document(&cut, s, size, cut_max) < 0) {
		CHECK(jw_len(&cut) <= cut_max);
		CHECK(jw_len(&cut) < jw_len(&w));
		CHECK(memcmp(jw_data(&cut), jw_data(&w), jw_len(&cut)) == 0);
	} else {
		CHECK(jw_len(&cut) == jw_len(&w) && memcmp(jw_data(&cut), jw_data(&w), jw_len(&w)) == 0);
	}
	jw_finish(&cut);
	jw_finish(&w);
	return 0;
}
