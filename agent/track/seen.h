/*
 * seen.h: the event ids `collect` and the daemon have handed out (seen.bin
 * in a state directory, with each event's time), so that a copy read later is not
 * handed out again, for events up to 60 days older than the newest one
 * handed out (but not later than the clock): older ids are forgotten, which
 * bounds the file. A copy of an older event read again (a replaced file, a
 * resumed session copying old history) is handed out again; the collector
 * keeps the first row per event id, so it does not count twice.
 */
#ifndef AM_AGENT_SEEN_H
#define AM_AGENT_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct seen {
	uint8_t (*ids)[16];
	size_t n_slots, n;
	bool loaded;
	int64_t cutoff_ms; /* ids of events before this are forgotten */
	FILE *append;
};

/*
 * seen_load(s, dir, now_ms, emit_max_ms): load dir's seen file, keeping the
 * ids of the window anchored at the newest event time known (in the file,
 * or emit_max_ms, about to be handed out), never later than now_ms; open it
 * for appending. 0 or a negative errno.
 */
int seen_load(struct seen *s, const char *dir, int64_t now_ms, int64_t emit_max_ms);

/* seen_add_id(s, id, ts_ms): remember id as handed out. 1 when new, 0 when known, <0 on error. */
int seen_add_id(struct seen *s, const uint8_t id[16], int64_t ts_ms);

/* seen_has(s, id): whether id is known (handed out within the window). */
bool seen_has(const struct seen *s, const uint8_t id[16]);

/* seen_sync(s): make the ids added durable. 0 or a negative errno. */
int seen_sync(struct seen *s);

/* seen_finish(s): close and free; accepts a zeroed struct. */
void seen_finish(struct seen *s);

#endif
