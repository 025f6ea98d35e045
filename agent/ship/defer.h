/*
 * defer.h: events the collector refused as being in the future, kept to be
 * sent again later (a workstation whose clock ran ahead when the tool wrote
 * them, or a collector whose clock is behind).
 *
 * The collector stores such an event only in rejected_events and names it in
 * the BatchAck (reason "future_timestamp"). Once the ack is in, the batch
 * leaves the spool, so before it is acknowledged the shipper writes those
 * events to state_dir/deferred/<due ms>-<random>.ev (durably). When they are
 * due, the daemon appends them to the spool again and removes the file; the
 * collector then stores them, or refuses them again and they wait again.
 * A crash between the steps only sends an event twice, and the event id
 * keeps the second copy out.
 *
 * File: u32 events | u32 CRC-32 of the rest | the events packed as in a
 * spool DATA record (spool_events_pack), little endian.
 */
#ifndef AM_DEFER_H
#define AM_DEFER_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "spool.h"

#define DEFER_DIR "deferred"

/*
 * defer_save(state_dir, events, n, due_ms): keep n events (borrowed) until
 * due_ms. Durable when it returns 0; else a negative errno and nothing kept.
 */
int defer_save(const char *state_dir, am_usage_event *const *events, size_t n, int64_t due_ms);

/*
 * defer_release(state_dir, spool, now_ms, max_wait_ms, ret_released, ret_next_due_ms):
 * append every file due by now_ms to spool, then remove it. A due time more
 * than max_wait_ms ahead was set by a clock that has since gone back: due now.
 * *ret_released: events appended; *ret_next_due_ms: the earliest file still
 * waiting (0: none). Returns 0, or the first negative errno of an append (that
 * file stays, as does every later one).
 */
int defer_release(const char *state_dir, struct spool *spool, int64_t now_ms,
		  uint64_t max_wait_ms, uint64_t *ret_released, int64_t *ret_next_due_ms);

/* defer_stats(state_dir, ret_events, ret_next_due_ms): what waits, for status. */
void defer_stats(const char *state_dir, uint64_t *ret_events, int64_t *ret_next_due_ms);

#endif
