/* action-lines.c: line counts and file extensions; see action-lines.h. */
#include "action-lines.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

uint32_t
action_lines(const char *s, size_t n)
{
	uint32_t lf = 0;
	const char *p = s, *end = s + n;

	if (n == 0) {
		return 0;
	}
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lf++;
		p++;
	}
	return lf + (s[n - 1] == '\n' ? 0 : 1);
}

struct span {
	const char *p;
	size_t n;
};

/* Split s into its lines (see action_lines); *ret is malloc'd, NULL when there are none. */
static int
split(const char *s, size_t n, struct span **ret, uint32_t *ret_n)
{
	uint32_t count = action_lines(s, n), i = 0;
	struct span *v;
	const char *p = s, *end = s + n;

	*ret = NULL;
	*ret_n = 0;
	if (count == 0) {
		return 0;
	}
	if ((v = calloc(count, sizeof(*v))) == NULL) {
		return -ENOMEM;
	}
	while (i < count) {
		const char *lf = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *e = lf != NULL ? lf : end;
		v[i].p = p;
		v[i].n = (size_t)(e - p);
		i++;
		p = e + 1;
	}
	*ret = v;
	*ret_n = count;
	return 0;
}

static bool
same(const struct span *a, const struct span *b)
{
	return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

int
action_trim(const char *old, size_t old_n, const char *new_, size_t new_n,
	    uint32_t *ret_added, uint32_t *ret_removed)
{
	struct span *o = NULL, *w = NULL;
	uint32_t no, nw, lead = 0, tail = 0;

	if (split(old, old_n, &o, &no) < 0 || split(new_, new_n, &w, &nw) < 0) {
		free(o);
		return -ENOMEM;
	}
	while (lead < no && lead < nw && same(&o[lead], &w[lead])) {
		lead++;
	}
	while (tail < no - lead && tail < nw - lead && same(&o[no - 1 - tail], &w[nw - 1 - tail])) {
		tail++;
	}
	*ret_added = nw - lead - tail;
	*ret_removed = no - lead - tail;
	free(o);
	free(w);
	return 0;
}

static bool
starts(const char *l, size_t n, const char *pre)
{
	size_t k = strlen(pre);
	return n >= k && memcmp(l, pre, k) == 0;
}

/* The line without trailing white space equals s. */
static bool
is_marker(const char *l, size_t n, const char *s)
{
	while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r')) {
		n--;
	}
	return n == strlen(s) && memcmp(l, s, n) == 0;
}

void
action_patch_lines(const char *p, size_t n, uint32_t *ret_added, uint32_t *ret_removed,
		   const char **ret_first, size_t *ret_first_n)
{
	enum { NONE, ADD, UPDATE, DELETE } sec = NONE;
	const char *end = p + n;
	uint32_t add = 0, rem = 0;

	if (ret_first != NULL) {
		*ret_first = NULL;
		*ret_first_n = 0;
	}
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((lf != NULL ? lf : end) - p);
		static const char *const heads[3] = {"*** Add File: ", "*** Update File: ",
						      "*** Delete File: "};
		int h = -1;
		for (int i = 0; i < 3; i++) {
			if (starts(p, len, heads[i])) {
				h = i;
			}
		}
		if (h >= 0) {
			sec = h == 0 ? ADD : h == 1 ? UPDATE : DELETE;
			if (ret_first != NULL && *ret_first == NULL) {
				size_t k = strlen(heads[h]);
				*ret_first = p + k;
				*ret_first_n = len - k;
			}
		} else if (is_marker(p, len, "*** Begin Patch") || is_marker(p, len, "*** End Patch")) {
			sec = NONE;
		} else if (starts(p, len, "*** ")) {
			/* Move to, End of File: markers */
		} else if (len > 0 && p[0] == '+' && (sec == ADD || sec == UPDATE)) {
			add++;
		} else if (len > 0 && p[0] == '-' && sec == UPDATE) {
			rem++;
		}
		p = lf != NULL ? lf + 1 : end;
	}
	*ret_added = add;
	*ret_removed = rem;
}

void
action_file_ext(const char *path, size_t n, char ret_ext[12])
{
	const char *base = path, *dot = NULL;
	size_t k;

	ret_ext[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (path[i] == '/' || path[i] == '\\') {
			base = path + i + 1;
		}
	}
	for (const char *q = base; q < path + n; q++) {
		if (*q == '.') {
			dot = q;
		}
	}
	if (dot == NULL || dot == base) {
		return;
	}
	k = (size_t)(path + n - dot - 1);
	if (k < 1 || k > 10) {
		return;
	}
	for (size_t i = 0; i < k; i++) {
		char c = dot[1 + i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '+' || c == '-';
		if (!ok) {
			ret_ext[0] = '\0';
			return;
		}
		ret_ext[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	ret_ext[k] = '\0';
}
