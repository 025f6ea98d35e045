/* json.c: validated jsmn parsing and token lookups; see json.h. */
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * The one place jsmn's code is compiled: JSMN_STATIC makes its two functions
 * static to this file (no exported symbols, no missing prototypes), strict
 * mode rejects bare words, and parent links keep closing brackets and commas
 * O(depth) instead of O(tokens) on long lines.
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#define TOK(d) ((jsmntok_t *)(d)->tok)

void
json_doc_init(struct json_doc *d)
{
	memset(d, 0, sizeof(*d));
}

void
json_doc_finish(struct json_doc *d)
{
	if (d == NULL) {
		return;
	}
	free(d->tok);
	memset(d, 0, sizeof(*d));
}

enum json_type
json_type(const struct json_doc *d, int t)
{
	if (t < 0 || (unsigned)t >= d->n_tok) {
		return JSON_NONE;
	}
	switch (TOK(d)[t].type) {
	case JSMN_OBJECT:
		return JSON_OBJECT;
	case JSMN_ARRAY:
		return JSON_ARRAY;
	case JSMN_STRING:
		return JSON_STRING;
	case JSMN_PRIMITIVE:
		return JSON_PRIMITIVE;
	default:
		return JSON_NONE;
	}
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
valid_number(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-') {
		i++;
	}
	if (i >= n) {
		return false;
	}
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
		}
	} else {
		return false;
	}
	if (i < n && s[i] == '.') {
		size_t d = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
		}
		if (i == d) {
			return false;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t d;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-')) {
			i++;
		}
		d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
		}
		if (i == d) {
			return false;
		}
	}
	return i == n;
}

static bool
valid_primitive(const char *s, size_t n)
{
	if (s[0] == 't') {
		return n == 4 && memcmp(s, "true", 4) == 0;
	}
	if (s[0] == 'f') {
		return n == 5 && memcmp(s, "false", 5) == 0;
	}
	if (s[0] == 'n') {
		return n == 4 && memcmp(s, "null", 4) == 0;
	}
	return valid_number(s, n);
}

/*
 * What strict jsmn still lets through: a value without its key's colon
 * ("a" 1 "b"), several values under one key, a container as a key, bad
 * literals, raw control characters in strings, bytes after the value.
 */
static int
validate(const struct json_doc *d, size_t len)
{
	const jsmntok_t *tok = TOK(d);
	size_t end = len;

	while (end > 0 && is_ws(d->js[end - 1])) {
		end--;
	}
	if (d->n_tok == 0 || tok[0].end < 0 || (size_t)tok[0].end != end) {
		return -EINVAL;
	}
	/* Raw control characters are allowed only as white space between
	 * tokens; a line holds no newline, and tab or CR inside a string is
	 * the one leniency left (a word at a time: this pass must be cheap). */
	for (size_t i = 0; i < len;) {
		uint64_t w;
		if (i + 8 <= len) {
			memcpy(&w, d->js + i, 8);
			if (((w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull) == 0) {
				i += 8;
				continue;
			}
		}
		for (size_t k = i; k < i + 8 && k < len; k++) {
			unsigned char c = (unsigned char)d->js[k];
			if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') {
				return -EINVAL;
			}
		}
		i += 8;
	}
	for (unsigned i = 0; i < d->n_tok; i++) {
		const jsmntok_t *t = &tok[i];
		int parent_type = t->parent >= 0 ? tok[t->parent].type : JSMN_UNDEFINED;

		if (i > 0 && t->parent < 0) {
			return -EINVAL; /* a second top-level value */
		}
		if (parent_type == JSMN_OBJECT && (t->type != JSMN_STRING || t->size != 1)) {
			return -EINVAL;
		}
		if (t->type == JSMN_STRING) {
			if (t->size > 1 || (t->size == 1 && parent_type != JSMN_OBJECT)) {
				return -EINVAL;
			}
		} else if (t->type == JSMN_PRIMITIVE) {
			if (!valid_primitive(d->js + t->start, (size_t)(t->end - t->start))) {
				return -EINVAL;
			}
		}
		if (parent_type == JSMN_STRING && tok[t->parent].size != 1) {
			return -EINVAL;
		}
	}
	/* Between a key and its value there must be a colon (jsmn links a value
	 * to the key only after one), and an object key needs its value. */
	for (unsigned i = 0; i < d->n_tok; i++) {
		const jsmntok_t *t = &tok[i];
		if (t->type == JSMN_OBJECT || t->type == JSMN_ARRAY) {
			if (t->end < 0) {
				return -EINVAL;
			}
		}
	}
	return 0;
}

int
json_parse(struct json_doc *d, const char *js, size_t len)
{
	jsmn_parser p;
	int r;

	d->js = js;
	d->len = len;
	d->n_tok = 0;
	if (len > (size_t)(1u << 30)) {
		return -E2BIG;
	}
	if (d->cap_tok == 0) {
		d->tok = calloc(256, sizeof(jsmntok_t));
		if (d->tok == NULL) {
			return -ENOMEM;
		}
		d->cap_tok = 256;
	}
	for (;;) {
		jsmn_init(&p);
		r = jsmn_parse(&p, js, len, TOK(d), d->cap_tok);
		if (r != JSMN_ERROR_NOMEM) {
			break;
		}
		if (d->cap_tok >= JSON_MAX_TOKENS) {
			return -E2BIG;
		}
		unsigned cap = d->cap_tok * 4 > JSON_MAX_TOKENS ? JSON_MAX_TOKENS : d->cap_tok * 4;
		void *grown = realloc(d->tok, (size_t)cap * sizeof(jsmntok_t));
		if (grown == NULL) {
			return -ENOMEM;
		}
		d->tok = grown;
		d->cap_tok = cap;
	}
	if (r <= 0) {
		return -EINVAL;
	}
	d->n_tok = p.toknext;
	if (validate(d, len) < 0) {
		d->n_tok = 0;
		return -EINVAL;
	}
	return 0;
}

/* Index of the token after t's whole subtree. */
static int
skip(const struct json_doc *d, int t)
{
	const jsmntok_t *tok = TOK(d);
	int end = tok[t].end;
	int i = t + 1;

	while ((unsigned)i < d->n_tok && tok[i].start < end) {
		i++;
	}
	return i;
}

/* Decode a \uXXXX escape's four hex digits. */
static unsigned
hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9') {
			v |= (unsigned)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			v |= (unsigned)(c - 'a' + 10);
		} else {
			v |= (unsigned)(c - 'A' + 10);
		}
	}
	return v;
}

/*
 * Unescape s[0..n) into out (may be NULL to measure). Returns the decoded
 * length. Validation already checked the escapes' shape.
 */
static size_t
unescape(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

#define PUT(c)                                                                                    \
	do {                                                                                      \
		if (out != NULL && o < cap) {                                                     \
			out[o] = (char)(c);                                                       \
		}                                                                                 \
		o++;                                                                              \
	} while (0)

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c != '\\' || i + 1 >= n) {
			PUT(c);
			continue;
		}
		c = s[++i];
		switch (c) {
		case 'b':
			PUT('\b');
			break;
		case 'f':
			PUT('\f');
			break;
		case 'n':
			PUT('\n');
			break;
		case 'r':
			PUT('\r');
			break;
		case 't':
			PUT('\t');
			break;
		case 'u': {
			unsigned cp;
			if (i + 4 >= n) {
				return o;
			}
			cp = hex4(s + i + 1);
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' &&
			    s[i + 2] == 'u') {
				unsigned lo = hex4(s + i + 3);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			if (cp < 0x80) {
				PUT(cp);
			} else if (cp < 0x800) {
				PUT(0xc0 | (cp >> 6));
				PUT(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				PUT(0xe0 | (cp >> 12));
				PUT(0x80 | ((cp >> 6) & 0x3f));
				PUT(0x80 | (cp & 0x3f));
			} else {
				PUT(0xf0 | (cp >> 18));
				PUT(0x80 | ((cp >> 12) & 0x3f));
				PUT(0x80 | ((cp >> 6) & 0x3f));
				PUT(0x80 | (cp & 0x3f));
			}
			break;
		}
		default: /* '"', '\\', '/' */
			PUT(c);
			break;
		}
	}
#undef PUT
	return o;
}

bool
json_str_eq(const struct json_doc *d, int t, const char *s)
{
	const jsmntok_t *k;
	size_t n, sl = strlen(s);
	char buf[256];

	if (json_type(d, t) != JSON_STRING) {
		return false;
	}
	k = &TOK(d)[t];
	n = (size_t)(k->end - k->start);
	if (memchr(d->js + k->start, '\\', n) == NULL) {
		return n == sl && memcmp(d->js + k->start, s, n) == 0;
	}
	if (sl > sizeof(buf)) {
		return false;
	}
	n = unescape(d->js + k->start, n, buf, sizeof(buf));
	return n == sl && memcmp(buf, s, n) == 0;
}

int
json_get(const struct json_doc *d, int obj, const char *key)
{
	const jsmntok_t *tok = TOK(d);
	int i, n;

	if (json_type(d, obj) != JSON_OBJECT) {
		return -1;
	}
	n = tok[obj].size;
	i = obj + 1;
	/* Keys are direct children; a key's value follows it. The last
	 * occurrence of a duplicated key wins, as in most JSON readers. */
	int found = -1;
	for (int k = 0; k < n && (unsigned)i < d->n_tok; k++) {
		if (json_str_eq(d, i, key)) {
			found = i + 1;
		}
		i = skip(d, i + 1);
	}
	return found;
}

int
json_path(const struct json_doc *d, int obj, ...)
{
	va_list ap;
	const char *key;
	int t = obj;

	va_start(ap, obj);
	while ((key = va_arg(ap, const char *)) != NULL) {
		t = json_get(d, t, key);
		if (t < 0) {
			break;
		}
	}
	va_end(ap);
	return t;
}

bool
json_is_null(const struct json_doc *d, int t)
{
	const jsmntok_t *k;

	if (json_type(d, t) == JSON_NONE) {
		return true;
	}
	k = &TOK(d)[t];
	return k->type == JSMN_PRIMITIVE && d->js[k->start] == 'n';
}

bool
json_is_true(const struct json_doc *d, int t)
{
	return json_type(d, t) == JSON_PRIMITIVE && d->js[TOK(d)[t].start] == 't';
}

int
json_u64(const struct json_doc *d, int t, uint64_t *ret_v)
{
	const jsmntok_t *k;
	uint64_t v = 0;

	if (json_is_null(d, t)) {
		return 0;
	}
	if (json_type(d, t) != JSON_PRIMITIVE) {
		return -EINVAL;
	}
	k = &TOK(d)[t];
	for (int i = k->start; i < k->end; i++) {
		unsigned digit = (unsigned)(d->js[i] - '0');
		if (digit > 9 || v > (UINT64_MAX - digit) / 10) {
			return -EINVAL; /* negative, fractional, exponent, or too large */
		}
		v = v * 10 + digit;
	}
	*ret_v = v;
	return 1;
}

int
json_str(const struct json_doc *d, int t, char *ret_buf, size_t size)
{
	const jsmntok_t *k;
	size_t n;

	if (json_is_null(d, t)) {
		return -ENOENT;
	}
	if (json_type(d, t) != JSON_STRING) {
		return -EINVAL;
	}
	k = &TOK(d)[t];
	n = unescape(d->js + k->start, (size_t)(k->end - k->start), ret_buf, size);
	if (n + 1 > size) {
		if (size > 0) {
			ret_buf[0] = '\0';
		}
		return -ENAMETOOLONG;
	}
	ret_buf[n] = '\0';
	return (int)n;
}
