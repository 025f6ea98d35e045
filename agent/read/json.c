/* json.c: validated jsmn parsing and token lookups; see json.h. */
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* baseline on x86-64 */
#endif

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
	free(d->buf);
	free(d->spans);
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

/* Raw extent of token t: strings include their quotes. */
static int
raw_start(const jsmntok_t *t)
{
	return t->type == JSMN_STRING ? t->start - 1 : t->start;
}

static int
raw_end(const jsmntok_t *t)
{
	return t->type == JSMN_STRING ? t->end + 1 : t->end;
}

/* js[from, to) is white space only. */
static bool
all_ws(const char *js, int from, int to)
{
	for (int i = from; i < to; i++) {
		if (!is_ws(js[i])) {
			return false;
		}
	}
	return from <= to;
}

/* js[from, to) is white space, then c, then white space. */
static bool
ws_sep_ws(const char *js, int from, int to, char c)
{
	int i = from;

	while (i < to && is_ws(js[i])) {
		i++;
	}
	if (i >= to || js[i] != c) {
		return false;
	}
	return all_ws(js, i + 1, to);
}

/*
 * The last byte before position at, skipping white space backwards, or 0
 * when there is none after floor.
 */
static char
prev_non_ws(const char *js, int floor, int at)
{
	while (at > floor && is_ws(js[at - 1])) {
		at--;
	}
	return at > floor ? js[at - 1] : '\0';
}

/*
 * What strict jsmn still lets through, checked over the tokens: a key must
 * be a string with exactly one value, literals must be exact, numbers must
 * follow the grammar, and the bytes between tokens must be exactly the
 * separators JSON puts there: white space only after an opening bracket,
 * one colon between a key and its value, one comma between members, no
 * comma before a closing bracket (jsmn accepts [1,] and [1 2]), nothing
 * but white space around the value. Strings were checked by scan_strings.
 */
static int
validate(const struct json_doc *d, size_t len)
{
	const jsmntok_t *tok = TOK(d);
	const char *js = d->js;
	size_t end = len;

	while (end > 0 && is_ws(js[end - 1])) {
		end--;
	}
	if (d->n_tok == 0 || tok[0].end < 0 || (size_t)tok[0].end != end ||
	    !all_ws(js, 0, raw_start(&tok[0]))) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < d->n_tok; i++) {
		const jsmntok_t *t = &tok[i];
		int p = t->parent;
		int parent_type = p >= 0 ? tok[p].type : JSMN_UNDEFINED;
		int rs = raw_start(t);

		if (i > 0 && p < 0) {
			return -EINVAL; /* a second top-level value */
		}
		if (parent_type == JSMN_OBJECT && (t->type != JSMN_STRING || t->size != 1)) {
			return -EINVAL;
		}
		switch (t->type) {
		case JSMN_STRING:
			if (t->size > 1 || (t->size == 1 && parent_type != JSMN_OBJECT)) {
				return -EINVAL;
			}
			break;
		case JSMN_PRIMITIVE:
			if (!valid_primitive(js + t->start, (size_t)(t->end - t->start))) {
				return -EINVAL;
			}
			break;
		case JSMN_OBJECT:
		case JSMN_ARRAY: {
			char c;
			if (t->end < 0) {
				return -EINVAL;
			}
			/* before the closing bracket: a member or the opening bracket */
			c = prev_non_ws(js, t->start, t->end - 1);
			if (c == ',' || c == ':') {
				return -EINVAL;
			}
			break;
		}
		default:
			return -EINVAL;
		}
		if (i == 0) {
			continue;
		}
		if (parent_type == JSMN_STRING) {
			/* a key's value: the next token, after one colon */
			if (tok[p].size != 1 || (unsigned)p != i - 1 ||
			    !ws_sep_ws(js, raw_end(&tok[p]), rs, ':')) {
				return -EINVAL;
			}
		} else if (parent_type == JSMN_OBJECT || parent_type == JSMN_ARRAY) {
			if ((unsigned)p == i - 1) {
				if (!all_ws(js, tok[p].start + 1, rs)) {
					return -EINVAL; /* [,1] */
				}
			} else {
				/* white space, one comma, white space, then the end of
				 * the previous member (anything else is a token) */
				int k = rs;
				char c;
				while (k > 0 && is_ws(js[k - 1])) {
					k--;
				}
				if (k == 0 || js[k - 1] != ',') {
					return -EINVAL;
				}
				c = prev_non_ws(js, tok[p].start, k - 1);
				if (c == '\0' || c == ',' || c == ':' || c == '[' || c == '{') {
					return -EINVAL;
				}
			}
		} else {
			return -EINVAL; /* a value under a number or literal */
		}
	}
	return 0;
}

/*
 * The string pre-scan. jsmn looks at every byte of a string one at a time
 * and Claude lines are mostly string bytes (message text, tool input), so
 * json_parse first walks the line's strings itself, eight bytes at a time:
 * outside a string a '"' starts one, inside it a '\\' escapes the next
 * byte and a '"' ends it, which is the whole of JSON's string syntax. It
 * checks each string strictly (no raw control character, escapes as JSON
 * defines them) and records the long ones. jsmn then tokenizes a copy of
 * the line in which long strings are empty; their tokens are mapped back to
 * the original offsets afterwards, so every lookup reads the real line.
 */
#define COLLAPSE_MIN 8 /* strings at least this long are not shown to jsmn */

struct span {
	uint32_t at;  /* offset in the copy where the string's content would start */
	uint32_t cum; /* bytes removed up to and including this string */
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
#else
#define SWAR 0
#endif

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/*
 * Index of the closing quote of the string whose content starts at i, or
 * -1 when it is not a valid JSON string (control character, bad escape, no
 * end).
 */
static ssize_t
string_end(const char *s, size_t i, size_t n, bool *ret_escaped)
{
	for (;;) {
#if defined(__SSE2__)
		/* sixteen bytes at a time: find '"', '\\' or a byte below 0x20 */
		const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
		const __m128i ctl = _mm_set1_epi8(0x1f);
		while (i + 16 <= n) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i hit = _mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
				_mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
			unsigned mask = (unsigned)_mm_movemask_epi8(hit);
			if (mask != 0) {
				i += (size_t)__builtin_ctz(mask);
				break;
			}
			i += 16;
		}
#elif SWAR
		while (i + 8 <= n) {
			uint64_t w, q, b, m;
			memcpy(&w, s + i, 8);
			q = w ^ (ONES * '"');
			b = w ^ (ONES * '\\');
			/* each term's lowest set bit marks a true match */
			m = ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w);
			m &= HIGHS;
			if (m != 0) {
				i += (size_t)__builtin_ctzll(m) / 8;
				break;
			}
			i += 8;
		}
#endif
		if (i >= n) {
			return -1;
		}
		unsigned char c = (unsigned char)s[i];
		if (c == '"') {
			return (ssize_t)i;
		}
		if (c < 0x20) {
			return -1; /* raw control characters, tab and CR included */
		}
		if (c != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= n) {
			return -1;
		}
		*ret_escaped = true;
		switch (s[i + 1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			i += 2;
			break;
		case 'u':
			if (i + 6 > n) {
				return -1;
			}
			for (size_t k = i + 2; k < i + 6; k++) {
				char h = s[k];
				if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
				      (h >= 'A' && h <= 'F'))) {
					return -1;
				}
			}
			i += 6;
			break;
		default:
			return -1;
		}
	}
}

static int
grow(void **p, unsigned *cap, unsigned need, size_t elem)
{
	unsigned c = *cap ? *cap : 64;
	void *n;

	if (need <= *cap) {
		return 0;
	}
	while (c < need) {
		c *= 2;
	}
	n = realloc(*p, (size_t)c * elem);
	if (n == NULL) {
		return -ENOMEM;
	}
	*p = n;
	*cap = c;
	return 0;
}

/*
 * Check every string of js and record the long ones in d->spans (offsets
 * still in js: at = content start, cum = content length). 0 or -EINVAL.
 */
static int
scan_strings(struct json_doc *d, const char *js, size_t len)
{
	struct span *sp;
	size_t i = 0;

	d->n_spans = 0;
	d->key_escapes = false;
	for (;;) {
		const char *q = memchr(js + i, '"', len - i);
		bool escaped = false;
		ssize_t e;
		if (q == NULL) {
			return 0;
		}
		i = (size_t)(q - js) + 1;
		e = string_end(js, i, len, &escaped);
		if (e < 0) {
			return -EINVAL;
		}
		if (escaped && !d->key_escapes) {
			/* a string followed by a colon is a key */
			size_t k = (size_t)e + 1;
			while (k < len && is_ws(js[k])) {
				k++;
			}
			d->key_escapes = k < len && js[k] == ':';
		}
		if ((size_t)e - i >= COLLAPSE_MIN) {
			if (grow(&d->spans, &d->cap_spans, d->n_spans + 1, sizeof(*sp)) < 0) {
				return -ENOMEM;
			}
			sp = d->spans;
			sp[d->n_spans].at = (uint32_t)i;
			sp[d->n_spans].cum = (uint32_t)((size_t)e - i);
			d->n_spans++;
		}
		i = (size_t)e + 1;
	}
}

/*
 * Copy js without the recorded strings' contents into d->buf, turning the
 * spans into copy offsets and running totals. Returns the copy's length.
 */
static size_t
compact(struct json_doc *d, const char *js, size_t len)
{
	struct span *sp = d->spans;
	size_t from = 0, out = 0;
	uint32_t cum = 0;

	for (unsigned k = 0; k < d->n_spans; k++) {
		size_t at = sp[k].at, n = sp[k].cum;
		memcpy(d->buf + out, js + from, at - from);
		out += at - from;
		from = at + n;
		cum += (uint32_t)n;
		sp[k].at = (uint32_t)out;
		sp[k].cum = cum;
	}
	memcpy(d->buf + out, js + from, len - from);
	return out + (len - from);
}

/* Removed bytes before copy offset x (spans at x count when incl). */
static uint32_t
removed_before(const struct span *sp, unsigned n, uint32_t x, bool incl)
{
	unsigned lo = 0, hi = n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (sp[mid].at < x || (incl && sp[mid].at == x)) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo > 0 ? sp[lo - 1].cum : 0;
}

/* Map token offsets from the copy back to the line. */
static void
restore_offsets(struct json_doc *d)
{
	jsmntok_t *tok = TOK(d);
	const struct span *sp = d->spans;
	unsigned k = 0, n = d->n_spans;
	uint32_t cum = 0;

	for (unsigned i = 0; i < d->n_tok; i++) {
		jsmntok_t *t = &tok[i];
		/* tokens come in order of their start */
		while (k < n && sp[k].at < (uint32_t)t->start) {
			cum = sp[k].cum;
			k++;
		}
		if (t->type == JSMN_STRING) {
			/* an emptied string starts and ends at its span */
			uint32_t end_cum = k < n && sp[k].at == (uint32_t)t->start ? sp[k].cum : cum;
			t->start += (int)cum;
			t->end += (int)end_cum;
		} else if (t->type == JSMN_PRIMITIVE) {
			t->start += (int)cum;
			t->end += (int)cum;
		} else {
			if (t->end >= 0) {
				t->end += (int)removed_before(sp, n, (uint32_t)t->end, true);
			}
			t->start += (int)cum;
		}
	}
}

/* Point d at a new line, with room for the first tokens. 0, -E2BIG or -ENOMEM. */
static int
doc_start(struct json_doc *d, const char *js, size_t len)
{
	d->js = js;
	d->len = len;
	d->n_tok = 0;
	d->key_escapes = false;
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
	return 0;
}

int
json_parse_jsmn(struct json_doc *d, const char *js, size_t len)
{
	jsmn_parser p;
	const char *src = js;
	size_t src_len = len;
	int r;

	r = doc_start(d, js, len);
	if (r < 0) {
		return r;
	}
	r = scan_strings(d, js, len);
	if (r < 0) {
		return r;
	}
	if (d->n_spans > 0) {
		if (len > d->cap_buf) {
			char *b = realloc(d->buf, len);
			if (b == NULL) {
				return -ENOMEM;
			}
			d->buf = b;
			d->cap_buf = len;
		}
		src = d->buf;
		src_len = compact(d, js, len);
	}
	for (;;) {
		jsmn_init(&p);
		r = jsmn_parse(&p, src, src_len, TOK(d), d->cap_tok);
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
	if (d->n_spans > 0) {
		restore_offsets(d);
	}
	if (validate(d, len) < 0) {
		d->n_tok = 0;
		return -EINVAL;
	}
	return 0;
}

/*
 * The one-pass parser. Claude lines are mostly string bytes, and jsmn plus
 * the validation above looked at every byte several times (string pre-scan,
 * copy, tokenize, map back, validate). This reads the line once, left to
 * right, skipping each string sixteen bytes at a time (string_end) and
 * checking the grammar as it goes, and writes the same tokens jsmn would
 * (same types, offsets, sizes and parent links), so the lookups below are
 * unchanged. It accepts exactly what json_parse_jsmn accepts; the
 * differential fuzz target (fuzz-agent-json-diff) holds the two together.
 */

/* Append a token under parent sup (counted in its size). Index, or -E2BIG/-ENOMEM. */
static int
tok_push(struct json_doc *d, jsmntype_t type, int start, int end, int sup)
{
	jsmntok_t *t;

	if (d->n_tok == d->cap_tok) {
		unsigned cap;
		void *grown;
		if (d->cap_tok >= JSON_MAX_TOKENS) {
			return -E2BIG;
		}
		cap = d->cap_tok * 4 > JSON_MAX_TOKENS ? JSON_MAX_TOKENS : d->cap_tok * 4;
		grown = realloc(d->tok, (size_t)cap * sizeof(jsmntok_t));
		if (grown == NULL) {
			return -ENOMEM;
		}
		d->tok = grown;
		d->cap_tok = cap;
	}
	t = &TOK(d)[d->n_tok];
	t->type = type;
	t->start = start;
	t->end = end;
	t->size = 0;
	t->parent = sup;
	if (sup >= 0) {
		TOK(d)[sup].size++;
	}
	return (int)d->n_tok++;
}

static size_t
skip_ws(const char *js, size_t i, size_t len)
{
	while (i < len && is_ws(js[i])) {
		i++;
	}
	return i;
}

/*
 * A literal or number at i: its extent runs to the next delimiter, as in
 * strict jsmn (which also wants a delimiter after it, even at the end of
 * the line). Returns the index after it, or 0 when invalid.
 */
static size_t
primitive_end(const char *js, size_t i, size_t len)
{
	size_t s = i;

	while (i < len) {
		char c = js[i];
		if (is_ws(c) || c == ',' || c == ']' || c == '}') {
			return valid_primitive(js + s, i - s) ? i : 0;
		}
		i++;
	}
	return 0;
}

/* One value at i under sup. Index after it, or <0 (-EINVAL, -E2BIG, -ENOMEM). */
static ssize_t
parse_scalar(struct json_doc *d, size_t i, size_t len, int sup)
{
	const char *js = d->js;
	int r;

	if (js[i] == '"') {
		bool escaped = false;
		ssize_t e = string_end(js, i + 1, len, &escaped);
		if (e < 0) {
			return -EINVAL;
		}
		r = tok_push(d, JSMN_STRING, (int)i + 1, (int)e, sup);
		return r < 0 ? r : e + 1;
	}
	if (js[i] != '-' && (js[i] < '0' || js[i] > '9') && js[i] != 't' && js[i] != 'f' &&
	    js[i] != 'n') {
		return -EINVAL;
	}
	size_t e = primitive_end(js, i, len);
	if (e == 0) {
		return -EINVAL;
	}
	r = tok_push(d, JSMN_PRIMITIVE, (int)i, (int)e, sup);
	return r < 0 ? r : (ssize_t)e;
}

/*
 * A key at i in object obj, its colon and the white space after it. The
 * index of its value, or <0; *ret_key is the key's token.
 */
static ssize_t
parse_key(struct json_doc *d, size_t i, size_t len, int obj, int *ret_key)
{
	const char *js = d->js;
	bool escaped = false;
	ssize_t e;
	int k;

	if (i >= len || js[i] != '"') {
		return -EINVAL;
	}
	e = string_end(js, i + 1, len, &escaped);
	if (e < 0) {
		return -EINVAL;
	}
	k = tok_push(d, JSMN_STRING, (int)i + 1, (int)e, obj);
	if (k < 0) {
		return k;
	}
	d->key_escapes |= escaped;
	i = skip_ws(js, (size_t)e + 1, len);
	if (i >= len || js[i] != ':') {
		return -EINVAL;
	}
	*ret_key = k;
	return (ssize_t)skip_ws(js, i + 1, len);
}

static int
parse_onepass(struct json_doc *d, size_t len)
{
	const char *js = d->js;
	jsmntok_t *tok;
	size_t i = skip_ws(js, 0, len);
	int sup = -1; /* where the next value goes: a container, a key, or -1 */
	int t;

	if (i < len && js[i] == '"') {
		return -EINVAL; /* json_parse_jsmn never accepted a bare string line */
	}
	for (;;) {
		/* a value at i */
		if (i >= len) {
			return -EINVAL;
		}
		if (js[i] == '{' || js[i] == '[') {
			bool obj = js[i] == '{';
			t = tok_push(d, obj ? JSMN_OBJECT : JSMN_ARRAY, (int)i, -1, sup);
			if (t < 0) {
				return t;
			}
			i = skip_ws(js, i + 1, len);
			if (i < len && js[i] == (obj ? '}' : ']')) {
				TOK(d)[t].end = (int)++i;
			} else if (obj) {
				ssize_t v = parse_key(d, i, len, t, &sup);
				if (v < 0) {
					return (int)v;
				}
				i = (size_t)v;
				continue;
			} else {
				sup = t;
				continue;
			}
		} else {
			ssize_t e = parse_scalar(d, i, len, sup);
			if (e < 0) {
				return (int)e;
			}
			i = (size_t)e;
		}
		/* a value ended at i: close what it completes, then expect the next one */
		for (;;) {
			tok = TOK(d);
			/* the container the last value is in */
			int c = sup >= 0 && tok[sup].type == JSMN_STRING ? tok[sup].parent : sup;
			i = skip_ws(js, i, len);
			if (c < 0) {
				return i == len ? 0 : -EINVAL;
			}
			if (i >= len) {
				return -EINVAL;
			}
			if (js[i] == ',') {
				i = skip_ws(js, i + 1, len);
				if (tok[c].type == JSMN_OBJECT) {
					ssize_t v = parse_key(d, i, len, c, &sup);
					if (v < 0) {
						return (int)v;
					}
					i = (size_t)v;
				} else {
					sup = c;
				}
				break;
			}
			if (js[i] != (tok[c].type == JSMN_OBJECT ? '}' : ']')) {
				return -EINVAL;
			}
			tok[c].end = (int)++i;
			sup = tok[c].parent;
		}
	}
}

int
json_parse(struct json_doc *d, const char *js, size_t len)
{
	int r;

	r = doc_start(d, js, len);
	if (r < 0) {
		return r;
	}
	r = parse_onepass(d, len);
	if (r < 0) {
		d->n_tok = 0;
	}
	return r;
}

/*
 * Index of the token after t's whole subtree: tokens are in order of their
 * start, so it is the first token starting at or after t's end.
 */
static int
skip(const struct json_doc *d, int t)
{
	const jsmntok_t *tok = TOK(d);
	int end = tok[t].end;
	unsigned lo = (unsigned)t + 1, hi = d->n_tok;

	if (tok[t].type == JSMN_PRIMITIVE || (tok[t].type == JSMN_STRING && tok[t].size == 0)) {
		return t + 1;
	}
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (tok[mid].start < end) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return (int)lo;
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
		if (c != '\\') {
			/* the run up to the next escape, copied at once: outputs and
			 * patches are long, their escapes tens of bytes apart */
			const char *bs = memchr(s + i, '\\', n - i);
			size_t run = (bs != NULL ? (size_t)(bs - s) : n) - i;
			if (out != NULL && o < cap) {
				memcpy(out + o, s + i, run < cap - o ? run : cap - o);
			}
			o += run;
			i += run - 1;
			continue;
		}
		if (i + 1 >= n) {
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

#define KEY_LEN_MAX 63 /* longer keys are compared through str_eq_n */

/* Raw token t equals s of length sl, escapes decoded. */
static bool
str_eq_n(const struct json_doc *d, const jsmntok_t *k, const char *s, size_t sl)
{
	size_t n = (size_t)(k->end - k->start);
	char buf[256];

	/* an escape only makes a string shorter than its raw form */
	if (n < sl) {
		return false;
	}
	if (n == sl && memcmp(d->js + k->start, s, n) == 0) {
		/* equal raw bytes: equal text unless the raw form holds an escape */
		return memchr(s, '\\', sl) == NULL;
	}
	if (memchr(d->js + k->start, '\\', n) == NULL || sl > sizeof(buf)) {
		return false;
	}
	n = unescape(d->js + k->start, n, buf, sizeof(buf));
	return n == sl && memcmp(buf, s, n) == 0;
}

bool
json_str_eq(const struct json_doc *d, int t, const char *s)
{
	if (json_type(d, t) != JSON_STRING) {
		return false;
	}
	return str_eq_n(d, &TOK(d)[t], s, strlen(s));
}

int
json_next(const struct json_doc *d, int arr, int prev)
{
	int i;

	if (json_type(d, arr) != JSON_ARRAY || TOK(d)[arr].size == 0 ||
	    (prev >= 0 && (prev <= arr || (unsigned)prev >= d->n_tok))) {
		return -1;
	}
	i = prev < 0 ? arr + 1 : skip(d, prev);
	/* an element starts inside the array; the first token past it does not */
	return (unsigned)i < d->n_tok && TOK(d)[i].start < TOK(d)[arr].end ? i : -1;
}

int
json_get(const struct json_doc *d, int obj, const char *key)
{
	const jsmntok_t *tok = TOK(d);
	size_t len = strlen(key);
	int found = -1, i, n;

	if (d->key_escapes || len > KEY_LEN_MAX || memchr(key, '\\', len) != NULL) {
		json_get_many(d, obj, &key, 1, &found);
		return found;
	}
	if (json_type(d, obj) != JSON_OBJECT) {
		return -1;
	}
	/* json_get_many's walk for one key: no key holds an escape, so equal bytes */
	n = tok[obj].size;
	i = obj + 1;
	for (int c = 0; c < n && (unsigned)i + 1 < d->n_tok; c++) {
		const jsmntok_t *k = &tok[i];
		if ((size_t)(k->end - k->start) == len && (len == 0 || d->js[k->start] == key[0]) &&
		    memcmp(d->js + k->start, key, len) == 0) {
			found = i + 1; /* the last of duplicated keys wins */
		}
		i = skip(d, i + 1);
	}
	return found;
}

void
json_get_many(const struct json_doc *d, int obj, const char *const *keys, unsigned n_keys,
	      int *ret)
{
	const jsmntok_t *tok = TOK(d);
	size_t lens[JSON_GET_MANY_MAX];
	uint32_t by_len[KEY_LEN_MAX + 1]; /* wanted keys by length, as bits */
	uint64_t lens_used = 0;            /* the lengths whose by_len entry is set */
	uint32_t slow = 0;                 /* wanted keys compared the long way */
	int i, n;

	for (unsigned k = 0; k < n_keys; k++) {
		ret[k] = -1;
	}
	if (json_type(d, obj) != JSON_OBJECT || n_keys > JSON_GET_MANY_MAX) {
		return;
	}
	/* by_len is set only where used (clearing it all was a sixth of this) */
	for (unsigned k = 0; k < n_keys; k++) {
		lens[k] = strlen(keys[k]);
		if (lens[k] <= KEY_LEN_MAX && memchr(keys[k], '\\', lens[k]) == NULL) {
			uint64_t bit = 1ull << lens[k];
			by_len[lens[k]] = (lens_used & bit ? by_len[lens[k]] : 0) | 1u << k;
			lens_used |= bit;
		} else {
			slow |= 1u << k;
		}
	}
	n = tok[obj].size;
	i = obj + 1;
	/* Keys are direct children; a key's value follows it. The last
	 * occurrence of a duplicated key wins, as in most JSON readers. */
	for (int c = 0; c < n && (unsigned)i + 1 < d->n_tok; c++) {
		const jsmntok_t *k = &tok[i];
		const char *raw = d->js + k->start;
		size_t raw_len = (size_t)(k->end - k->start);
		if (d->key_escapes) {
			/* some key is escaped: compare decoded text */
			for (unsigned w = 0; w < n_keys; w++) {
				if (str_eq_n(d, k, keys[w], lens[w])) {
					ret[w] = i + 1;
				}
			}
		} else {
			/* no key holds an escape: equal text is equal bytes */
			uint32_t m = raw_len <= KEY_LEN_MAX && (lens_used >> raw_len & 1) ? by_len[raw_len] : 0;
			for (; m != 0; m &= m - 1) {
				unsigned w = (unsigned)__builtin_ctz(m);
				/* the first byte settles most mismatches without a call */
				if (raw_len > 0 && raw[0] != keys[w][0]) {
					continue;
				}
				if (memcmp(raw, keys[w], raw_len) == 0) {
					ret[w] = i + 1;
				}
			}
			for (m = slow; m != 0; m &= m - 1) {
				unsigned w = (unsigned)__builtin_ctz(m);
				if (str_eq_n(d, k, keys[w], lens[w])) {
					ret[w] = i + 1;
				}
			}
		}
		i = skip(d, i + 1);
	}
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
	n = (size_t)(k->end - k->start);
	if (n < size && memchr(d->js + k->start, '\\', n) == NULL) {
		memcpy(ret_buf, d->js + k->start, n);
		ret_buf[n] = '\0';
		return (int)n;
	}
	n = unescape(d->js + k->start, n, ret_buf, size);
	if (n + 1 > size) {
		if (size > 0) {
			ret_buf[0] = '\0';
		}
		return -ENAMETOOLONG;
	}
	ret_buf[n] = '\0';
	return (int)n;
}

char *
json_str_dup(const struct json_doc *d, int t, size_t *ret_len)
{
	const jsmntok_t *k;
	size_t n;
	char *buf;

	if (json_type(d, t) != JSON_STRING) {
		return NULL;
	}
	k = &TOK(d)[t];
	n = (size_t)(k->end - k->start);
	if ((buf = malloc(n + 1)) == NULL) {
		return NULL;
	}
	n = unescape(d->js + k->start, n, buf, n); /* never longer than the raw form */
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

int
json_str_prefix(const struct json_doc *d, int t, char *ret_buf, size_t size)
{
	const jsmntok_t *k;
	size_t n, o;

	if (size == 0) {
		return -1;
	}
	ret_buf[0] = '\0';
	if (json_type(d, t) != JSON_STRING) {
		return -1;
	}
	k = &TOK(d)[t];
	n = (size_t)(k->end - k->start);
	/* an unescaped byte takes at most six raw ones (a surrogate pair, twelve
	 * for four), so this much raw text yields size bytes before any escape
	 * the cut could split */
	if (n > 6 * size + 12) {
		n = 6 * size + 12;
	}
	o = unescape(d->js + k->start, n, ret_buf, size - 1);
	o = o < size - 1 ? o : size - 1;
	ret_buf[o] = '\0';
	return (int)o;
}

int64_t
json_str_count(const struct json_doc *d, int t, char c, int *ret_last)
{
	const jsmntok_t *k;
	const char *s, *p, *end, *bs;
	int64_t count = 0;
	int last;

	*ret_last = -1;
	if (json_type(d, t) != JSON_STRING) {
		return -1;
	}
	k = &TOK(d)[t];
	s = d->js + k->start;
	end = d->js + k->end;
	if (s == end) {
		return 0;
	}
	/* the parse checked every escape: between backslashes are plain bytes */
	p = s;
	last = 0;
	while (p < end) {
		bs = memchr(p, '\\', (size_t)(end - p));
		const char *run_end = bs != NULL ? bs : end;
		/* a control character is never raw in a string: only its escape counts */
		if ((unsigned char)c >= 0x20) {
			for (const char *q = p; q < run_end; q++) {
				count += *q == c;
			}
		}
		if (run_end > p) {
			last = run_end[-1] == c;
		}
		if (bs == NULL || bs + 1 >= end) {
			break;
		}
		char e[8];
		size_t raw = bs[1] == 'u' ? 6 : 2, got;
		/* a surrogate pair decodes as one character */
		if (raw == 6 && bs + 12 <= end && bs[6] == '\\' && bs[7] == 'u') {
			unsigned hi = hex4(bs + 2), lo = hex4(bs + 8);
			if (hi >= 0xd800 && hi < 0xdc00 && lo >= 0xdc00 && lo < 0xe000) {
				raw = 12;
			}
		}
		if (bs + raw > end) {
			raw = (size_t)(end - bs);
		}
		got = unescape(bs, raw, e, sizeof(e));
		for (size_t i = 0; i < got && i < sizeof(e); i++) {
			count += e[i] == c;
		}
		if (got > 0 && got <= sizeof(e)) {
			last = e[got - 1] == c;
		}
		p = bs + raw;
	}
	*ret_last = last;
	return count;
}

const char *
json_str_raw(const struct json_doc *d, int t, size_t *ret_len)
{
	const jsmntok_t *k;

	if (json_type(d, t) != JSON_STRING) {
		return NULL;
	}
	k = &TOK(d)[t];
	*ret_len = (size_t)(k->end - k->start);
	return d->js + k->start;
}

int
json_str_first(const struct json_doc *d, int t)
{
	const jsmntok_t *k;
	char c[8];
	size_t n;

	if (json_type(d, t) != JSON_STRING) {
		return -1;
	}
	k = &TOK(d)[t];
	n = (size_t)(k->end - k->start);
	if (n == 0) {
		return 0;
	}
	/* twelve raw bytes hold the first character's longest escape (a surrogate pair) */
	n = unescape(d->js + k->start, n < 12 ? n : 12, c, sizeof(c));
	return n > 0 ? (unsigned char)c[0] : 0;
}

int
json_next_key(const struct json_doc *d, int obj, int prev)
{
	int i;

	if (json_type(d, obj) != JSON_OBJECT || TOK(d)[obj].size == 0 ||
	    (prev >= 0 && (prev <= obj || (unsigned)prev + 1 >= d->n_tok))) {
		return -1;
	}
	i = prev < 0 ? obj + 1 : skip(d, prev + 1); /* past the previous key's value */
	return (unsigned)i < d->n_tok && TOK(d)[i].start < TOK(d)[obj].end ? i : -1;
}
