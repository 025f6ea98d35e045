/* json-writer.c: streaming JSON text into a bounded buffer; see json-writer.h. */
#include "json-writer.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
jw_init(struct jw *w, char *buf, size_t size, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->buf = size > 0 ? buf : NULL;
	w->size = w->buf != NULL ? size : 0;
	w->max = max < SIZE_MAX / 4 ? max : SIZE_MAX / 4; /* room sums cannot overflow */
	if (w->size > w->max + 1) {
		w->size = max + 1; /* the caller's storage does not raise the maximum */
	}
	if (w->buf != NULL) {
		w->buf[0] = '\0';
	}
}

void
jw_set_lines(struct jw *w, unsigned depth)
{
	w->lines = depth;
}

void
jw_finish(struct jw *w)
{
	if (w == NULL) {
		return;
	}
	if (w->heap) {
		free(w->buf);
	}
	w->buf = NULL;
	w->size = 0;
	w->len = 0;
	w->heap = false;
}

void
jw_reset(struct jw *w)
{
	w->len = 0;
	w->err = 0;
	w->depth = 0;
	w->after_key = false;
	w->complete = false;
	w->nonempty = 0;
	w->object = 0;
	if (w->buf != NULL) {
		w->buf[0] = '\0';
	}
}

void
jw_drain(struct jw *w)
{
	w->len = 0;
	if (w->buf != NULL) {
		w->buf[0] = '\0';
	}
}

const char *
jw_data(const struct jw *w)
{
	return w->buf != NULL ? w->buf : "";
}

size_t
jw_len(const struct jw *w)
{
	return w->len;
}

int
jw_error(const struct jw *w)
{
	return w->err;
}

/* --- storage ------------------------------------------------------------------------------- */

/* Room for n more bytes of text (and the NUL after them), within max. */
static int
reserve(struct jw *w, size_t n)
{
	size_t need, size;
	char *b;

	if (n > w->max - w->len) {
		return -ENOBUFS;
	}
	need = w->len + n + 1;
	if (need <= w->size) {
		return 0;
	}
	/* double, so a long document costs O(log n) copies; never past max */
	size = w->size > need / 2 ? w->size * 2 : need;
	if (size < 256) {
		size = 256;
	}
	if (size - 1 > w->max) {
		size = w->max + 1;
	}
	if (w->heap) {
		b = realloc(w->buf, size);
	} else {
		b = malloc(size);
		if (b != NULL && w->len > 0) {
			memcpy(b, w->buf, w->len);
		}
	}
	if (b == NULL) {
		return -ENOMEM;
	}
	w->buf = b;
	w->size = size;
	w->heap = true;
	return 0;
}

/* Append n bytes; the NUL after the text is written once per call, in done(). */
static inline int
put(struct jw *w, const char *s, size_t n)
{
	if (n >= w->size - w->len) {
		int r = reserve(w, n);
		if (r < 0) {
			return r;
		}
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	return 0;
}

#define PUT_LIT(w, lit) put((w), (lit), sizeof(lit) - 1)

/*
 * End a public call: keep the text of a call that worked (NUL-terminated),
 * drop all of one that failed and remember its error.
 */
static int
done(struct jw *w, size_t start, int r)
{
	if (r < 0) {
		w->len = start;
		w->err = r;
	}
	if (w->buf != NULL) {
		w->buf[w->len] = '\0'; /* reserve always leaves room for it */
	}
	return r;
}

/* --- strings ------------------------------------------------------------------------------- */

/*
 * The length of the well-formed UTF-8 sequence at p[0..n) (a lead byte of
 * 0x80 or more), or, negated, the length of its maximal ill-formed subpart:
 * the bytes that could still have begun a sequence (Unicode table 3-7).
 */
static long
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t want, i;

	if (c >= 0xc2 && c <= 0xdf) {
		want = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		want = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
		hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		want = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing past U+10FFFF */
	} else {
		return -1; /* a continuation byte, C0, C1 or F5..FF */
	}
	for (i = 1; i < want; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			return -(long)i;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return (long)want;
}

/* Printable ASCII but '"' and '\\': bytes a string holds as they are. */
static inline bool
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

#define ONES ((uint64_t)0x0101010101010101)
#define HIGHS (ONES * 0x80)

/*
 * The length of the run of plain bytes at s[0..n). Eight bytes at a time
 * (the "has zero byte" and "has less than" tricks of Sean Anderson's Bit
 * Twiddling Hacks): most strings are plain ASCII and this is the hot loop.
 */
static size_t
plain_run(const char *s, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, quote, backslash;
		memcpy(&x, s + i, 8);
		quote = x ^ (ONES * '"');
		backslash = x ^ (ONES * '\\');
		/* a byte below 0x20, a '"', a '\\' or a byte of 0x80 or more */
		if ((((x - ONES * 0x20) & ~x) | ((quote - ONES) & ~quote) |
		     ((backslash - ONES) & ~backslash) | x) &
		    HIGHS) {
			break;
		}
	}
	while (i < n && plain((unsigned char)s[i])) {
		i++;
	}
	return i;
}

static int
put_escaped(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;
	int r = 0;

	while (i < n && r == 0) {
		unsigned char c = p[i];
		char esc[6] = { '\\', 0, '0', '0', 0, 0 };
		size_t esc_len = 2;
		long seq;

		if (plain(c)) {
			i += plain_run(s + i, n - i);
			continue;
		}
		if (c >= 0x80) {
			seq = utf8_seq(p + i, n - i);
			if (seq > 0) {
				i += (size_t)seq;
				continue;
			}
			r = put(w, s + run, i - run);
			if (r == 0) {
				r = PUT_LIT(w, "\xef\xbf\xbd"); /* U+FFFD */
			}
			i += (size_t)-seq;
			run = i;
			continue;
		}
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			esc_len = 6;
		}
		r = put(w, s + run, i - run);
		if (r == 0) {
			r = put(w, esc, esc_len);
		}
		i++;
		run = i;
	}
	if (r == 0) {
		r = put(w, s + run, n - run);
	}
	return r;
}

static int
put_string(struct jw *w, const char *s, size_t n)
{
	int r;

	if (plain_run(s, n) == n) {
		/* the usual case, nothing to escape: one check for room, one copy */
		r = reserve(w, n + 2);
		if (r == 0) {
			w->buf[w->len] = '"';
			memcpy(w->buf + w->len + 1, s, n);
			w->buf[w->len + 1 + n] = '"';
			w->len += n + 2;
		}
		return r;
	}
	r = PUT_LIT(w, "\"");
	if (r == 0) {
		r = put_escaped(w, s, n);
	}
	if (r == 0) {
		r = PUT_LIT(w, "\"");
	}
	return r;
}

/* --- structure ----------------------------------------------------------------------------- */

#define LEVEL_BIT(d) ((uint64_t)1 << ((d) - 1))

static bool
in_object(const struct jw *w)
{
	return w->depth > 0 && (w->object & LEVEL_BIT(w->depth)) != 0;
}

/* A line break, then two spaces per level of depth (up to 32 levels). */
static int
put_line(struct jw *w, unsigned depth)
{
	static const char spaces[] = "\n                                                                ";
	size_t indent = 2 * (size_t)depth;

	return put(w, spaces, 1 + (indent < sizeof(spaces) - 2 ? indent : sizeof(spaces) - 2));
}

/* The innermost container is an array whose elements each take a line (jw_set_lines). */
static bool
has_lines(const struct jw *w)
{
	return w->depth > 0 && w->depth <= w->lines && !in_object(w);
}

/* How many arrays, the innermost included, break their elements into lines: the indent. */
static unsigned
line_levels(const struct jw *w)
{
	unsigned n = 0;

	for (unsigned d = 1; d <= w->depth && d <= w->lines; d++) {
		n += (w->object & LEVEL_BIT(d)) == 0;
	}
	return n;
}

/* A comma after an earlier element, then the element's line when the array has lines. */
static int
put_separator(struct jw *w)
{
	int r = 0;

	if (w->nonempty & LEVEL_BIT(w->depth)) {
		r = PUT_LIT(w, ",");
	}
	if (r == 0 && has_lines(w)) {
		r = put_line(w, line_levels(w));
	}
	return r;
}

/* Before any value: a key must precede it in an object; a comma between array elements. */
static int
value_begin(struct jw *w)
{
	int r;

	if (w->err < 0) {
		return w->err;
	}
	if (w->after_key) {
		w->after_key = false;
		return 0;
	}
	if (w->depth == 0) {
		return w->complete ? -EINVAL : 0; /* one document per writer (jw_reset between) */
	}
	if (in_object(w)) {
		return -EINVAL;
	}
	r = put_separator(w);
	if (r == 0) {
		w->nonempty |= LEVEL_BIT(w->depth);
	}
	return r;
}

/*
 * Every value goes through here: text and structure change together, or
 * (on failure) not at all.
 */
static int
value(struct jw *w, const char *text, size_t n, int (*write)(struct jw *, const char *, size_t))
{
	size_t start = w->len;
	bool after_key = w->after_key;
	uint64_t nonempty = w->nonempty;
	int r = value_begin(w);

	if (r == 0) {
		r = write(w, text, n);
	}
	if (r < 0 && r == w->err) {
		return r; /* an earlier error: nothing was written */
	}
	if (r < 0) {
		w->after_key = after_key;
		w->nonempty = nonempty;
	} else if (w->depth == 0) {
		w->complete = true; /* a scalar document, or not yet: see container_begin */
	}
	return done(w, start, r);
}

static int
container_begin(struct jw *w, bool object)
{
	int r;

	if (w->err == 0 && w->depth >= JW_DEPTH_MAX) {
		return done(w, w->len, -EINVAL);
	}
	r = value(w, object ? "{" : "[", 1, put);
	if (r == 0) {
		w->depth++;
		w->complete = false; /* until its jw_end */
		w->nonempty &= ~LEVEL_BIT(w->depth);
		if (object) {
			w->object |= LEVEL_BIT(w->depth);
		} else {
			w->object &= ~LEVEL_BIT(w->depth);
		}
	}
	return r;
}

int
jw_object_begin(struct jw *w)
{
	return container_begin(w, true);
}

int
jw_array_begin(struct jw *w)
{
	return container_begin(w, false);
}

int
jw_end(struct jw *w)
{
	size_t start = w->len;
	int r = 0;

	if (w->err < 0) {
		return w->err;
	}
	if (w->depth == 0 || w->after_key) {
		return done(w, start, -EINVAL);
	}
	if ((w->nonempty & LEVEL_BIT(w->depth)) && has_lines(w)) {
		r = put_line(w, line_levels(w) - 1);
	}
	if (r == 0) {
		r = in_object(w) ? PUT_LIT(w, "}") : PUT_LIT(w, "]");
	}
	if (r == 0) {
		w->depth--;
		w->complete = w->depth == 0;
	}
	return done(w, start, r);
}

int
jw_key(struct jw *w, const char *s)
{
	size_t start = w->len;
	int r;

	if (w->err < 0) {
		return w->err;
	}
	if (!in_object(w) || w->after_key) {
		return done(w, start, -EINVAL);
	}
	r = put_separator(w);
	if (r == 0) {
		r = put_string(w, s, strlen(s));
	}
	if (r == 0) {
		r = PUT_LIT(w, ":");
	}
	if (r == 0) {
		w->nonempty |= LEVEL_BIT(w->depth);
		w->after_key = true;
	}
	return done(w, start, r);
}

int
jw_string(struct jw *w, const char *s)
{
	return value(w, s, strlen(s), put_string);
}

int
jw_stringn(struct jw *w, const char *s, size_t n)
{
	return value(w, s, n, put_string);
}

/* --- numbers and literals ------------------------------------------------------------------ */

/* v in decimal, written backwards from end; returns the first digit. */
static char *
format_u64(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

int
jw_uint(struct jw *w, uint64_t v)
{
	char d[20];
	char *p = format_u64(v, d + sizeof(d));

	return value(w, p, (size_t)(d + sizeof(d) - p), put);
}

int
jw_int(struct jw *w, int64_t v)
{
	char d[21];
	/* the magnitude as unsigned: -INT64_MIN does not fit an int64 */
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char *p = format_u64(m, d + sizeof(d));

	if (v < 0) {
		*--p = '-';
	}
	return value(w, p, (size_t)(d + sizeof(d) - p), put);
}

int
jw_double(struct jw *w, double v)
{
	char d[32];

	if (w->err < 0) {
		return w->err;
	}
	if (!isfinite(v)) {
		return done(w, w->len, -EDOM);
	}
	/* the shortest of 15..17 significant digits that reads back as v */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(d, sizeof(d), "%.*g", prec, v);
		if (strtod(d, NULL) == v) {
			break;
		}
	}
	return value(w, d, strlen(d), put);
}

int
jw_bool(struct jw *w, bool v)
{
	return v ? value(w, "true", 4, put) : value(w, "false", 5, put);
}

int
jw_null(struct jw *w)
{
	return value(w, "null", 4, put);
}

/* past a run of at least one decimal digit, or NULL */
static const char *
digits(const char *s)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9') {
		p++;
	}
	return p > s ? p : NULL;
}

bool
jw_number_valid(const char *s)
{
	s += s[0] == '-';
	if (s[0] == '0') {
		s++; /* no leading zeros */
	} else {
		s = digits(s);
	}
	if (s != NULL && s[0] == '.') {
		s = digits(s + 1);
	}
	if (s != NULL && (s[0] == 'e' || s[0] == 'E')) {
		s = digits(s + 1 + (s[1] == '+' || s[1] == '-'));
	}
	return s != NULL && s[0] == '\0';
}

int
jw_number_text(struct jw *w, const char *s)
{
	if (w->err < 0) {
		return w->err;
	}
	if (!jw_number_valid(s)) {
		return done(w, w->len, -EINVAL);
	}
	return value(w, s, strlen(s), put);
}

int
jw_raw(struct jw *w, const char *s, size_t n)
{
	return value(w, s, n, put);
}
