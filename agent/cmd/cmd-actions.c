/*
 * cmd-actions.c: one person's action figures in `report actions`; see
 * cli.h (the JSONL lines of `scan` are jsonl.c's).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Sums of one group of actions. */
struct tally {
	char name[96];
	uint64_t calls, accepted, rejected, errors, unknown;
	uint64_t added, removed, commits, prs;
};

struct tallies {
	struct tally *v;
	size_t n, cap;
};

static struct tally *
tally_of(struct tallies *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].name, name) == 0) {
			return &t->v[i];
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct tally *v = realloc(t->v, cap * sizeof(*v));
		if (v == NULL) {
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	snprintf(t->v[t->n].name, sizeof(t->v[0].name), "%s", name);
	return &t->v[t->n++];
}

static void
tally_add(struct tally *t, const struct action_rec *a)
{
	if (t == NULL) {
		return;
	}
	t->calls++;
	t->accepted += a->decision == ACTION_ACCEPTED;
	t->rejected += a->decision == ACTION_REJECTED;
	t->errors += a->decision == ACTION_ERROR;
	t->unknown += a->decision == ACTION_UNKNOWN;
	t->added += a->lines_added;
	t->removed += a->lines_removed;
	t->commits += a->commit;
	t->prs += a->pull_request;
}

static void
tally_print(const char *by, const struct tallies *t, bool json, bool *first, FILE *f)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct tally *x = &t->v[i];
		uint64_t decided = x->accepted + x->rejected;
		double rate = decided ? 100.0 * (double)x->accepted / (double)decided : 0;
		char name[96];
		event_printable(x->name, name, sizeof(name));
		if (json) {
			fprintf(f,
				"%s{\"by\":\"%s\",\"name\":\"%s\",\"calls\":%llu,\"accepted\":%llu,"
				"\"rejected\":%llu,\"error\":%llu,\"unknown\":%llu,"
				"\"acceptance_rate\":%.4f,\"lines_added\":%llu,\"lines_removed\":%llu,"
				"\"commits\":%llu,\"pull_requests\":%llu}",
				*first ? "" : ",\n", by, name, (unsigned long long)x->calls,
				(unsigned long long)x->accepted, (unsigned long long)x->rejected,
				(unsigned long long)x->errors, (unsigned long long)x->unknown,
				decided ? (double)x->accepted / (double)decided : 0.0,
				(unsigned long long)x->added, (unsigned long long)x->removed,
				(unsigned long long)x->commits, (unsigned long long)x->prs);
			*first = false;
		} else {
			fprintf(f, "%-6s %-34.34s %7llu %8llu %8llu %6llu %7llu %6.1f%% %8llu %8llu %7llu %4llu\n",
				by, name, (unsigned long long)x->calls, (unsigned long long)x->accepted,
				(unsigned long long)x->rejected, (unsigned long long)x->errors,
				(unsigned long long)x->unknown, rate, (unsigned long long)x->added,
				(unsigned long long)x->removed, (unsigned long long)x->commits,
				(unsigned long long)x->prs);
		}
	}
}

int
cmd_report_actions(const struct cli *c, const struct agent_config *cfg, struct scan *s)
{
	struct tallies all = {0}, tools = {0}, kinds = {0}, days = {0};
	struct action_rec a;
	bool first = true;
	int rc = 0;

	if (cli_full_scan(s, c, cfg) < 0) {
		return 1;
	}
	size_t *order = action_table_sort(s->actions);
	if (order == NULL) {
		return 1;
	}
	for (size_t k = 0; k < s->actions->n; k++) {
		char day[32], tool[64];
		if (!action_table_get(s->actions, order[k], &a) || a.ts_ms < c->since_ms) {
			continue;
		}
		event_ts_format(a.ts_ms, day);
		day[10] = '\0';
		snprintf(tool, sizeof(tool), "%s", event_tool_name(a.tool));
		tally_add(tally_of(&all, "all"), &a);
		tally_add(tally_of(&tools, tool), &a);
		tally_add(tally_of(&kinds, action_kind_name(a.kind)), &a);
		tally_add(tally_of(&days, day), &a);
	}
	free(order);
	if (c->json) {
		printf("[");
	} else {
		printf("%-6s %-34s %7s %8s %8s %6s %7s %7s %8s %8s %7s %4s\n", "by", "name", "calls",
		       "accepted", "rejected", "error", "unknown", "accept", "+lines", "-lines",
		       "commits", "PRs");
	}
	tally_print("total", &all, c->json, &first, stdout);
	tally_print("tool", &tools, c->json, &first, stdout);
	tally_print("kind", &kinds, c->json, &first, stdout);
	tally_print("day", &days, c->json, &first, stdout);
	if (c->json) {
		printf("]\n");
	}
	free(all.v);
	free(tools.v);
	free(kinds.v);
	free(days.v);
	scan_print_stats(s);
	if (fflush(stdout) != 0) {
		rc = 1;
	}
	return rc;
}
