/* strpool.c: interned strings; see strpool.h. */
#include "strpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t
strpool_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ s[i]) * 1099511628211ull;
	}
	return h;
}

static int
rehash(struct strpool *p, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 1; i < p->n_strs; i++) {
		size_t j = strpool_hash(p->strs[i], strlen(p->strs[i])) & (n_slots - 1);
		while (slots[j] != 0) {
			j = (j + 1) & (n_slots - 1);
		}
		slots[j] = (uint32_t)i;
	}
	free(p->slots);
	p->slots = slots;
	p->n_slots = n_slots;
	return 0;
}

static char *
dup_default(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	return strndup(s, n);
}

int
strpool_intern(struct strpool *p, const char *s, size_t max, strpool_dup_fn *dup, void *ctx,
	       uint32_t *ret_idx)
{
	size_t n, j;
	char *copy;

	if (s == NULL || s[0] == '\0') {
		*ret_idx = 0;
		return 0;
	}
	if (p->n_strs == 0) {
		if ((p->strs = malloc(64 * sizeof(*p->strs))) == NULL) {
			return -ENOMEM;
		}
		p->cap_strs = 64;
		p->strs[0] = (char *)"";
		p->n_strs = 1;
	}
	if ((p->n_strs + 1) * 2 > p->n_slots && rehash(p, p->n_slots ? p->n_slots * 2 : 64) < 0) {
		return -ENOMEM;
	}
	n = strlen(s);
	j = strpool_hash(s, n) & (p->n_slots - 1);
	while (p->slots[j] != 0) {
		if (strcmp(p->strs[p->slots[j]], s) == 0) {
			*ret_idx = p->slots[j];
			return 0;
		}
		j = (j + 1) & (p->n_slots - 1);
	}
	if (p->n_strs >= max || p->n_strs >= UINT32_MAX) {
		return -E2BIG;
	}
	if (p->n_strs == p->cap_strs) {
		char **strs = realloc(p->strs, p->cap_strs * 2 * sizeof(*strs));
		if (strs == NULL) {
			return -ENOMEM;
		}
		p->strs = strs;
		p->cap_strs *= 2;
	}
	if ((copy = (dup != NULL ? dup : dup_default)(ctx, s, n)) == NULL) {
		return -ENOMEM;
	}
	p->strs[p->n_strs] = copy;
	p->slots[j] = (uint32_t)p->n_strs;
	*ret_idx = (uint32_t)p->n_strs++;
	return 0;
}

const char *
strpool_str(const struct strpool *p, uint32_t i)
{
	return i < p->n_strs ? p->strs[i] : "";
}

void
strpool_finish(struct strpool *p, bool free_strs)
{
	for (size_t i = 1; free_strs && i < p->n_strs; i++) {
		free(p->strs[i]);
	}
	free(p->strs);
	free(p->slots);
	memset(p, 0, sizeof(*p));
}
