/*
 * json-writer.h: streaming JSON text (RFC 8259) into a bounded buffer.
 *
 * One way to write JSON for the whole project, so every program writes the
 * same bytes for the same string. Build jansson objects where code already
 * holds a tree; use this writer to stream rows and events.
 *
 * Strings: '"' and '\\' are escaped; \b \f \n \r \t use their two-character
 * forms, every other byte below 0x20 becomes \u00XX (lowercase hex); 0x7f
 * and valid UTF-8 pass through unchanged. Invalid UTF-8 is REPLACED, never
 * refused: each maximal ill-formed subsequence (Unicode 15, section 3.9,
 * "U+FFFD substitution of maximal subparts", as Python and WHATWG decode)
 * becomes one U+FFFD, so a damaged log line still yields its event and the
 * output always parses. Overlong forms, surrogates (CESU-8) and code points
 * above U+10FFFF count as ill-formed.
 *
 * Numbers: int64 and uint64 in decimal; doubles in the fewest of 15 to 17
 * significant digits that read back as the same double (0.1, not
 * 0.10000000000000001); NaN and infinities are refused.
 *
 * Structure: the writer places commas and colons and checks nesting; an
 * object takes jw_key() before each value. Errors are sticky: the first one
 * is kept, later calls do nothing and return it, so a caller may write a
 * whole document and check once. A failing call adds no bytes, so the
 * buffer always ends at a call boundary.
 *
 * Errors (negative errno, as in macros.h): -ENOBUFS the text would pass the
 * maximum fixed at init; -ENOMEM; -EDOM a NaN or infinity; -EINVAL misuse
 * (a value in an object without a key, a close that does not match, nesting
 * deeper than JW_DEPTH_MAX, number text that is not a JSON number).
 *
 * Names start jw_, not json_: that prefix belongs to jansson and agent/json.h.
 */
#ifndef AM_COMMON_JSON_WRITER_H
#define AM_COMMON_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_DEPTH_MAX 64

struct jw {
	char *buf;      /* storage: the caller's first, then malloc'ed */
	size_t len;     /* bytes of text, NUL not counted */
	size_t size;    /* bytes of storage */
	size_t max;     /* most bytes of text ever held */
	bool heap;      /* buf is ours to free */
	int err;        /* first error, sticky */
	unsigned depth; /* open containers */
	unsigned lines; /* arrays this deep or less put each element on a line */
	bool after_key; /* a key was written; its value comes next */
	bool complete;  /* a whole document is written */
	uint64_t nonempty; /* bit d: the container at depth d+1 has an element */
	uint64_t object;   /* bit d: the container at depth d+1 is an object */
};

/*
 * jw_init(w, buf, size, max): an empty writer. buf (borrowed, may be NULL
 * with size 0) is the first storage; when the text outgrows it, the writer
 * moves to malloc'ed memory, never holding more than max bytes of text.
 * Pass a stack buffer for short documents to avoid allocating at all.
 */
void jw_init(struct jw *w, char *buf, size_t size, size_t max);

/*
 * jw_set_lines(w, depth): arrays nested depth or less deep put each element
 * on its own line, indented two spaces per such array ("[\n  {...},\n
 * {...}\n]"), so a long list reads a row a line; objects stay on one line.
 * 0, the default, writes one line.
 */
void jw_set_lines(struct jw *w, unsigned depth);

/* jw_finish(w): free what the writer allocated; w may be half-built or finished twice. */
void jw_finish(struct jw *w);

/* jw_reset(w): empty the text and clear errors and nesting; keeps storage. */
void jw_reset(struct jw *w);

/*
 * jw_drain(w): empty the text but keep the nesting, once the caller has
 * written the text out: a long document streams in pieces, each within max.
 */
void jw_drain(struct jw *w);

/* jw_data(w), jw_len(w): the text so far, NUL-terminated (borrowed until the next call). */
const char *jw_data(const struct jw *w);
size_t jw_len(const struct jw *w);

/* jw_error(w): 0 or the first error. */
int jw_error(const struct jw *w);

/* Containers. jw_end closes the innermost one, object or array. */
int jw_object_begin(struct jw *w);
int jw_array_begin(struct jw *w);
int jw_end(struct jw *w);

/* jw_key(w, s): the next member's name (a C string), escaped as strings are. */
int jw_key(struct jw *w, const char *s);

/* jw_string(w, s): s (a C string) as a string value; jw_stringn with a length (NULs escaped). */
int jw_string(struct jw *w, const char *s);
int jw_stringn(struct jw *w, const char *s, size_t n);

int jw_int(struct jw *w, int64_t v);
int jw_uint(struct jw *w, uint64_t v);
int jw_double(struct jw *w, double v);
int jw_bool(struct jw *w, bool v);
int jw_null(struct jw *w);

/* jw_number_valid(s): s matches RFC 8259's number grammar exactly ("NaN", "1." do not). */
bool jw_number_valid(const char *s);

/*
 * jw_number_text(w, s): s, which must be jw_number_valid (-EINVAL if not),
 * as a number value: PostgreSQL's numeric text keeps every digit this way.
 */
int jw_number_text(struct jw *w, const char *s);

/*
 * jw_raw(w, s, n): n bytes the caller vouches are one complete JSON value
 * (say, PostgreSQL json output), written as they are.
 */
int jw_raw(struct jw *w, const char *s, size_t n);

#endif
