/* cmd-scan.c: `aimeter-agent scan`, a one-shot full scan; see cli.h. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonl.h"

static void
print_table_row(const struct scan *s, const struct ledger_rec *r)
{
	char ts[32], model[256], session[256], project[256];

	event_ts_format(r->ts_ms, ts);
	printf("%-24s %-11s %-28.28s %-8.8s %-8.8s %9llu %8llu %9llu %9llu %10llu %8llu %3llu\n", ts,
	       event_tool_name((enum event_tool)r->tool),
	       event_printable(ledger_str(&s->ledger, r->model), model, sizeof(model)),
	       event_printable(ledger_str(&s->ledger, r->session), session, sizeof(session)),
	       event_printable(ledger_str(&s->ledger, r->project), project, sizeof(project)),
	       (unsigned long long)r->tok[EVENT_INPUT], (unsigned long long)r->tok[EVENT_OUTPUT],
	       (unsigned long long)r->tok[EVENT_CACHE_WRITE_5M],
	       (unsigned long long)r->tok[EVENT_CACHE_WRITE_1H],
	       (unsigned long long)r->tok[EVENT_CACHE_READ],
	       (unsigned long long)r->tok[EVENT_REASONING],
	       (unsigned long long)r->tok[EVENT_WEB_SEARCH]);
}

int
cli_full_scan(struct scan *s, const struct cli *c, const struct agent_config *cfg)
{
	struct scan_root *roots;
	size_t n;
	int r = roots_collect(cfg, &c->roots, s, &roots, &n);

	if (r < 0) {
		return r;
	}
	s->since_ms = c->since_ms;
	s->settle_all = true; /* a one-shot scan sees whole files: everything is final */
	scan_walk_all(s, roots, n, scan_read_all_cb, NULL);
	free(roots);
	return 0;
}

int
cmd_scan(const struct cli *c, const struct agent_config *cfg, struct scan *s)
{
	struct ledger_rec r;
	struct jsonl out;
	size_t n = 0;
	bool table = c->format != NULL && strcmp(c->format, "table") == 0;

	/* 38-byte records; sorted in place below, so no order array either */
	ledger_set_compact(&s->ledger);
	if (cli_full_scan(s, c, cfg) < 0) {
		return 1;
	}
	ledger_sort(&s->ledger); /* by time, then event id */
	jsonl_init(&out, stdout, cfg->team_hint);
	if (table) {
		printf("%-24s %-11s %-28s %-8s %-8s %9s %8s %9s %9s %10s %8s %3s\n", "time (UTC)",
		       "tool", "model", "session", "project", "input", "output", "cache_w5m",
		       "cache_w1h", "cache_read", "reason", "web");
	}
	for (size_t i = 0; i < s->ledger.n; i++) {
		ledger_get(&s->ledger, i, &r);
		if (r.ts_ms < c->since_ms) {
			continue;
		}
		n++;
		if (table) {
			print_table_row(s, &r);
		} else {
			jsonl_write_event(&out, s, &r);
		}
	}
	if (table) {
		printf("%zu events\n", n);
	} else if (s->actions != NULL) {
		/* action records after the usage events, by time of the call */
		size_t *order = action_table_sort(s->actions);
		struct action_rec a;
		if (order == NULL) {
			return 1;
		}
		for (size_t k = 0; k < s->actions->n; k++) {
			if (action_table_get(s->actions, order[k], &a) && a.ts_ms >= c->since_ms) {
				jsonl_write_action(&out, s, &a);
			}
		}
		free(order);
	}
	scan_print_stats(s);
	return fflush(stdout) == 0 ? 0 : 1;
}
