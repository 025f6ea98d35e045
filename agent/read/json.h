/*
 * json.h: one JSON line at a time, as jsmn tokens (libjsmn-dev, header-only).
 *
 * json_parse() reads the line once, skipping strings sixteen bytes at a
 * time, checking the grammar strictly as it goes and writing jsmn's tokens
 * (strict mode, parent links), so a line "parses" only when it is one
 * strict JSON value (RFC 8259). The lookups below walk tokens, so text
 * inside a string is never a field.
 * Tokens grow on demand up to JSON_MAX_TOKENS; the array is reused.
 */
#ifndef AM_JSON_H
#define AM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_TOKENS (1u << 20)

enum json_type { JSON_NONE, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_PRIMITIVE, JSON_TYPE_MAX };

struct json_doc {
	const char *js; /* borrowed: the line */
	size_t len;
	void *tok; /* owned: jsmntok_t[cap_tok], private to json.c */
	unsigned n_tok;
	unsigned cap_tok;
	char *buf; /* owned: the line without its long strings' contents, for jsmn */
	size_t cap_buf;
	void *spans; /* owned: where those strings were, private to json.c */
	unsigned n_spans, cap_spans;
	bool key_escapes; /* some object key holds a backslash */
};

/* json_type(d, t): the type of token t (JSON_NONE for -1). */
enum json_type json_type(const struct json_doc *d, int t);

/* json_doc_init(d)/json_doc_finish(d): caller memory; finish accepts a zeroed doc. */
void json_doc_init(struct json_doc *d);
void json_doc_finish(struct json_doc *d);

/*
 * json_parse(d, js, len): tokenize and validate one value (leading and
 * trailing white space allowed). js is borrowed until the next parse.
 * Returns 0, -EINVAL for invalid JSON, -E2BIG past JSON_MAX_TOKENS, -ENOMEM.
 */
int json_parse(struct json_doc *d, const char *js, size_t len);

/*
 * json_parse_jsmn(d, js, len): the same result through jsmn and a separate
 * validation pass (the earlier parser): the reference the differential
 * fuzz target and the benchmark compare json_parse with.
 */
int json_parse_jsmn(struct json_doc *d, const char *js, size_t len);

/* json_get(d, obj, key): token index of key's value in object obj, or -1. */
int json_get(const struct json_doc *d, int obj, const char *key);

#define JSON_GET_MANY_MAX 32

/*
 * json_get_many(d, obj, keys, n_keys, ret): json_get for several keys in one
 * walk over obj's members; ret[k] is the value of keys[k] or -1.
 * n_keys is at most JSON_GET_MANY_MAX.
 */
void json_get_many(const struct json_doc *d, int obj, const char *const *keys, unsigned n_keys,
		   int *ret);

/* json_next(d, arr, prev): the element of array arr after token prev (-1: the first), or -1. */
int json_next(const struct json_doc *d, int arr, int prev);

/* json_next_key(d, obj, prev): the key after key token prev (-1: the first) of object obj, or -1; its value is the token after it. */
int json_next_key(const struct json_doc *d, int obj, int prev);

/* json_path(d, obj, ...): json_get along NULL-terminated keys, or -1. */
int json_path(const struct json_doc *d, int obj, ...);

/* json_is_null(d, t): t is the literal null (or -1: absent counts as null). */
bool json_is_null(const struct json_doc *d, int t);

/* json_is_true(d, t): t is the literal true. */
bool json_is_true(const struct json_doc *d, int t);

/*
 * json_u64(d, t, ret_v): a non-negative integer. Returns 1 with *ret_v set,
 * 0 when absent or null (JSON null is absent), -EINVAL for any other value.
 */
int json_u64(const struct json_doc *d, int t, uint64_t *ret_v);

/*
 * json_str(d, t, ret_buf, size): unescape string t into ret_buf (NUL-ended).
 * Returns its length, -ENOENT when absent or null, -EINVAL when not a
 * string, -ENAMETOOLONG when it does not fit.
 */
int json_str(const struct json_doc *d, int t, char *ret_buf, size_t size);

/*
 * json_str_dup(d, t, ret_len): string t unescaped into a malloc'd buffer
 * (NUL-ended; caller frees), however long; NULL when t is not a string or
 * memory runs out.
 */
char *json_str_dup(const struct json_doc *d, int t, size_t *ret_len);

/*
 * json_str_prefix(d, t, ret_buf, size): the first size - 1 bytes (or fewer)
 * of string t unescaped into ret_buf (NUL-ended), without reading the rest
 * of a long string. Returns their length, -1 when t is not a string.
 */
int json_str_prefix(const struct json_doc *d, int t, char *ret_buf, size_t size);

/*
 * json_str_count(d, t, c, ret_last): how many bytes c (ASCII, not '\\')
 * string t holds unescaped, counted on the raw text without a copy; -1
 * when t is not a string. *ret_last: 1 when its last byte is c, 0 when
 * not, -1 when the string is empty.
 */
int64_t json_str_count(const struct json_doc *d, int t, char c, int *ret_last);

/* json_str_raw(d, t, ret_len): string t as it stands in the line (escapes not decoded), or NULL. */
const char *json_str_raw(const struct json_doc *d, int t, size_t *ret_len);

/* json_str_first(d, t): the first byte of string t unescaped, 0 when empty, -1 when not a string. */
int json_str_first(const struct json_doc *d, int t);

/* json_str_eq(d, t, s): string token t equals s (escapes decoded). */
bool json_str_eq(const struct json_doc *d, int t, const char *s);

#endif
