/*
 * strpool.h: interned strings, each held once and named by a small index
 * (0 is ""), for the tables that keep one row per event or tool call and
 * would otherwise hold the same session, model and project names by the
 * thousand: the ledger and the action table.
 */
#ifndef AM_AGENT_STRPOOL_H
#define AM_AGENT_STRPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strpool {
	char **strs; /* strs[0] is "" */
	size_t n_strs, cap_strs;
	uint32_t *slots; /* open addressing on the string's hash; 0 is empty */
	size_t n_slots;
};

/* strpool_dup_fn(ctx, s, n): a copy of the n bytes of s, NUL-terminated, or NULL. */
typedef char *strpool_dup_fn(void *ctx, const char *s, size_t n);

/* strpool_hash(p, n): FNV-1a of n bytes. */
uint64_t strpool_hash(const void *p, size_t n);

/*
 * strpool_intern(p, s, max, dup, ctx, ret_idx): the index of s, adding a
 * copy made by dup (strndup when NULL) while the pool holds fewer than max
 * indexes. Returns 0, -E2BIG when full, -ENOMEM.
 */
int strpool_intern(struct strpool *p, const char *s, size_t max, strpool_dup_fn *dup, void *ctx,
		   uint32_t *ret_idx);

/* strpool_str(p, i): the string of index i; "" for 0 or an index never given. */
const char *strpool_str(const struct strpool *p, uint32_t i);

/* strpool_finish(p, free_strs): frees the pool, and its strings when dup was strndup. */
void strpool_finish(struct strpool *p, bool free_strs);

#endif
