/*
 * blob.h: little-endian binary writer and reader for saved state (the
 * tracking engine's blob and the sources' cursors inside it). The writer
 * grows its buffer and remembers a failed allocation; the reader never
 * reads past its end and remembers that it tried to. Check once at the end.
 */
#ifndef AM_AGENT_BLOB_H
#define AM_AGENT_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOB_MAX (1u << 30) /* no saved state is anywhere near this */

struct blob_w {
	uint8_t *p; /* malloc'd; the caller frees it */
	size_t len, cap;
	bool oom;
};

struct blob_r {
	const uint8_t *p; /* borrowed */
	size_t len, pos;
	bool bad;
};

void blob_put(struct blob_w *b, const void *v, size_t n);
void blob_put32(struct blob_w *b, uint32_t v);
void blob_put64(struct blob_w *b, uint64_t v);
/* blob_put_str(b, s): u32 length, then the bytes (no NUL). */
void blob_put_str(struct blob_w *b, const char *s);
/* blob_patch32(b, at, v): overwrite the u32 at offset at (a count known only later). */
void blob_patch32(struct blob_w *b, size_t at, uint32_t v);

/* blob_get(r, n): the next n bytes, or NULL (and r->bad) when fewer are left. */
const uint8_t *blob_get(struct blob_r *r, size_t n);
uint32_t blob_get32(struct blob_r *r);
uint64_t blob_get64(struct blob_r *r);
/* blob_get_str(r, out, size): a string that must fit size with its NUL, else r->bad. */
void blob_get_str(struct blob_r *r, char *out, size_t size);

#endif
