/*
 * fuzz-spool-record.c: the spool record parser on arbitrary bytes, walked the
 * way spool_open walks a segment, then every DATA record's events unpacked.
 */
#include <stddef.h>
#include <stdint.h>

#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		struct spool_record rec;
		size_t used;
		int r = spool_record_decode(data + pos, size - pos, &rec, &used);
		if (r < 0) {
			pos++;
			continue;
		}
		if (used < SPOOL_HEADER_LEN || used > size - pos) {
			__builtin_trap();
		}
		if (rec.type == SPOOL_RECORD_DATA && rec.n_events > 0) {
			am_batch *b = NULL;
			if (spool_events_unpack(&rec, &b) == 0) {
				if (b->n_events != rec.n_events) {
					__builtin_trap();
				}
				spool_events_free(b);
			}
		}
		pos += used;
	}
	return 0;
}
