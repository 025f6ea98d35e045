/*
 * cmd-actions.c: action records on the command line: their JSONL lines in
 * `scan` and one person's figures in `report actions`; see cli.h.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "event_id.h"
#include "json-writer.h"

/* event_ts_format without formatting the date again for every line of a day. */
static void
ts_format(int64_t ms, struct cli_day_cache *c, char ret[32])
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t d = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - d * 86400;
	unsigned msec = (unsigned)(ms - secs * 1000);

	if (d != c->day) {
		event_ts_format(d * 86400000, c->date);
		c->day = strlen(c->date) == 24 ? d : INT64_MIN;
	}
	if (c->day != d) {
		event_ts_format(ms, ret); /* a year outside 0..9999 */
		return;
	}
	/* digits by hand: this runs once per line, printf's parsing would dominate */
	unsigned v[3] = {(unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60)};
	memcpy(ret, c->date, 11); /* "YYYY-MM-DDT" */
	for (int i = 0; i < 3; i++) {
		ret[11 + 3 * i] = (char)('0' + v[i] / 10);
		ret[12 + 3 * i] = (char)('0' + v[i] % 10);
		ret[13 + 3 * i] = i < 2 ? ':' : '.';
	}
	ret[20] = (char)('0' + msec / 100);
	ret[21] = (char)('0' + msec / 10 % 10);
	ret[22] = (char)('0' + msec % 10);
	ret[23] = 'Z';
	ret[24] = '\0';
}

void
cli_write_action(const struct scan *s, const struct action_rec *a, struct cli_day_cache *days,
		 FILE *f)
{
	char line[1024], hex[33], ts[32];
	struct jw w;

	am_event_id_hex(a->id, hex);
	ts_format(a->ts_ms, days, ts);
	jw_init(&w, line, sizeof(line), 1u << 16);
	jw_object_begin(&w);
	jw_key(&w, "record");
	jw_string(&w, "action");
	jw_key(&w, "action_id");
	jw_string(&w, hex);
	jw_key(&w, "tool");
	jw_string(&w, event_tool_name(a->tool));
	jw_key(&w, "ts");
	jw_string(&w, ts);
	jw_key(&w, "session");
	jw_string(&w, a->session);
	jw_key(&w, "project");
	jw_string(&w, a->project);
	jw_key(&w, "user");
	jw_string(&w, a->origin < s->n_origins ? s->origins[a->origin].user : "");
	jw_key(&w, "kind");
	jw_string(&w, action_kind_name(a->kind));
	jw_key(&w, "tool_name");
	jw_string(&w, a->tool_name);
	jw_key(&w, "target");
	jw_string(&w, a->target);
	jw_key(&w, "decision");
	jw_string(&w, action_decision_name(a->decision));
	jw_key(&w, "lines_added");
	jw_uint(&w, a->lines_added);
	jw_key(&w, "lines_removed");
	jw_uint(&w, a->lines_removed);
	jw_key(&w, "proposed_lines_added");
	jw_uint(&w, a->proposed_added);
	jw_key(&w, "proposed_lines_removed");
	jw_uint(&w, a->proposed_removed);
	jw_key(&w, "file_ext");
	jw_string(&w, a->file_ext);
	jw_key(&w, "commits");
	jw_uint(&w, a->commit);
	jw_key(&w, "pull_requests");
	jw_uint(&w, a->pull_request);
	jw_key(&w, "in_subagent");
	jw_bool(&w, a->in_subagent);
	jw_end(&w);
	if (jw_error(&w) == 0) {
		(void)fwrite(jw_data(&w), 1, jw_len(&w), f); /* errors stay on f: callers check fflush */
		(void)putc('\n', f);
	}
	jw_finish(&w);
}

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
