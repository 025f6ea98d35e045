/*
 * jsonl.h: an event as one JSON line, the output of `scan --format jsonl`
 * and `collect` (fields in a fixed order; strings through common/json-writer).
 */
#ifndef AM_AGENT_JSONL_H
#define AM_AGENT_JSONL_H

#include <stdint.h>
#include <stdio.h>

#include "action.h"
#include "scan.h"

/* Where lines go, and the last day formatted (events mostly come in time order). */
struct jsonl {
	FILE *f;               /* borrowed */
	const char *team_hint; /* borrowed; NULL is "" */
	int64_t day;           /* days since the epoch of date, or INT64_MIN */
	char date[12];         /* "YYYY-MM-DDT" of day */
};

/* jsonl_init(j, f, team_hint): lines to f; caller memory, nothing to finish. */
void jsonl_init(struct jsonl *j, FILE *f, const char *team_hint);

/* jsonl_write_event(j, s, rec): one line for rec (an event of s's ledger). */
void jsonl_write_event(struct jsonl *j, const struct scan *s, const struct ledger_rec *rec);

/* jsonl_write_action(j, s, a): one line for action a of s (docs/actions.md). */
void jsonl_write_action(struct jsonl *j, const struct scan *s, const struct action_rec *a);

#endif
