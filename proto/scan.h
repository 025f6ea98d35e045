/*
 * scan.h: the wire pre-pass of am_batch_decode (internal to proto/).
 *
 * protobuf-c allocates a slot for every field it meets before it looks at
 * what the field is, so 32 MiB of two-byte fields costs it half a gigabyte.
 * This scan walks the decompressed bytes first, in pieces as zstd produces
 * them, and refuses a Batch that no aimeter agent writes: unknown field
 * numbers, wrong wire types, a non-repeated field seen twice, more fields or
 * events than the limits allow, an event or header string above its cap. It
 * allocates nothing but the per-event fault array, so a bomb stops after a
 * few kilobytes of output instead of after unpacking.
 */
#ifndef AM_PROTO_SCAN_H
#define AM_PROTO_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

struct am_scan {
	const struct am_batch_limits *lim;
	size_t pos;       /* bytes of complete top-level fields already checked */
	size_t fields;    /* fields seen, at every level */
	size_t events;    /* top-level field 6 seen */
	size_t actions;   /* top-level field 8 seen (schema version 2) */
	uint32_t seen;    /* non-repeated Batch fields seen, bit per number */
	uint8_t *faults;  /* NULL, or lim->max_events entries of enum am_event_fault */
	uint8_t *action_faults; /* the same for actions */
};

/* am_scan_init(s, lim): start scanning a payload under lim (borrowed). */
void am_scan_init(struct am_scan *s, const struct am_batch_limits *lim);

/*
 * am_scan_feed(s, buf, len, final, ret_status):
 * Check the complete top-level fields of buf[s->pos, len) (buf holds the
 * whole payload so far, len grows between calls). final: len is the whole
 * payload, so a field cut short is an error. Returns 0, or -1 with ret_status
 * filled in.
 */
int am_scan_feed(struct am_scan *s, const uint8_t *buf, size_t len, bool final,
		 struct am_batch_status *ret_status);

/*
 * am_batch_fail(st, code, fmt, ...): fill st with code and the message, for
 * batch.c and scan.c alike. Returns -1, so callers can return it.
 */
__attribute__((format(printf, 3, 4))) int am_batch_fail(struct am_batch_status *st,
							  enum am_batch_error code,
							  const char *fmt, ...);

/* am_scan_finish(s): free what the scan holds; s may be half-used. */
void am_scan_finish(struct am_scan *s);

#endif
