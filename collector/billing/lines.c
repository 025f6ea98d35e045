/* lines.c: the bounded list of billed lines, and the names stored for them. */
#include "billing.h"

#include <stdlib.h>
#include <string.h>

void
billing_lines_init(struct billing_lines *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max;
}

struct billing_line *
billing_lines_add(struct billing_lines *l)
{
	if (l->n >= l->max) {
		return NULL;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct billing_line *v;

		if (cap > l->max) {
			cap = l->max;
		}
		v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL) {
			return NULL;
		}
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

void
billing_lines_finish(struct billing_lines *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const char *
billing_source_name(enum billing_source src)
{
	static const char *const names[BILLING_SOURCE_MAX] = {
		[BILLING_ANTHROPIC_COST] = "anthropic_cost_report",
		[BILLING_ANTHROPIC_USAGE] = "anthropic_usage_report",
		[BILLING_ANTHROPIC_CLAUDE_CODE] = "anthropic_claude_code",
		[BILLING_OPENAI_COSTS] = "openai_costs",
		[BILLING_OPENAI_USAGE] = "openai_usage",
	};

	return (unsigned)src < BILLING_SOURCE_MAX ? names[src] : "unknown";
}

const char *
billing_kind_name(enum billing_kind kind)
{
	static const char *const names[BILLING_KIND_MAX] = {
		[BILLING_KIND_COST] = "cost",
		[BILLING_KIND_USAGE] = "usage",
		[BILLING_KIND_ESTIMATE] = "estimate",
	};

	return (unsigned)kind < BILLING_KIND_MAX ? names[kind] : "unknown";
}
