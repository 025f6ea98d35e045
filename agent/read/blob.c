/* blob.c: little-endian binary writer and reader; see blob.h. */
#include "blob.h"

#include <stdlib.h>
#include <string.h>

void
blob_put(struct blob_w *b, const void *v, size_t n)
{
	if (b->oom) {
		return;
	}
	if (n > BLOB_MAX - b->len) {
		b->oom = true;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n) {
			cap *= 2;
		}
		uint8_t *g = realloc(b->p, cap);
		if (g == NULL) {
			b->oom = true;
			return;
		}
		b->p = g;
		b->cap = cap;
	}
	if (n > 0) {
		memcpy(b->p + b->len, v, n);
	}
	b->len += n;
}

static void
le32(uint8_t x[4], uint32_t v)
{
	x[0] = (uint8_t)v;
	x[1] = (uint8_t)(v >> 8);
	x[2] = (uint8_t)(v >> 16);
	x[3] = (uint8_t)(v >> 24);
}

void
blob_put32(struct blob_w *b, uint32_t v)
{
	uint8_t x[4];

	le32(x, v);
	blob_put(b, x, 4);
}

void
blob_put64(struct blob_w *b, uint64_t v)
{
	blob_put32(b, (uint32_t)v);
	blob_put32(b, (uint32_t)(v >> 32));
}

void
blob_put_str(struct blob_w *b, const char *s)
{
	size_t n = strlen(s);

	blob_put32(b, (uint32_t)n);
	blob_put(b, s, n);
}

void
blob_patch32(struct blob_w *b, size_t at, uint32_t v)
{
	if (!b->oom && at + 4 <= b->len) {
		le32(b->p + at, v);
	}
}

const uint8_t *
blob_get(struct blob_r *r, size_t n)
{
	if (r->bad || r->len - r->pos < n) {
		r->bad = true;
		return NULL;
	}
	r->pos += n;
	return r->p + r->pos - n;
}

uint32_t
blob_get32(struct blob_r *r)
{
	const uint8_t *x = blob_get(r, 4);

	return x ? (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24
		 : 0;
}

uint64_t
blob_get64(struct blob_r *r)
{
	uint64_t lo = blob_get32(r);

	return lo | (uint64_t)blob_get32(r) << 32;
}

void
blob_get_str(struct blob_r *r, char *out, size_t size)
{
	uint32_t n = blob_get32(r);
	const uint8_t *s;

	out[0] = '\0';
	if (n >= size) {
		r->bad = true;
		return;
	}
	s = blob_get(r, n);
	if (s != NULL) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
}
