/*
 * jsonl.h: an event as one JSON line, the output of `scan --format jsonl`
 * and `collect` (fields in a fixed order; strings through common/json-writer).
 */
#ifndef AM_AGENT_JSONL_H
#define AM_AGENT_JSONL_H

#include <stdio.h>

#include "scan.h"

/* jsonl_write_event(s, rec, team_hint, f): one line for rec (an event of s's ledger) to f. */
void jsonl_write_event(const struct scan *s, const struct ledger_rec *rec, const char *team_hint,
		       FILE *f);

#endif
