/*
 * fuzz-batch-payload.c: fuzz the protobuf layer behind zstd. The input is the
 * decompressed payload; it is wrapped in a valid zstd frame and decoded, so
 * mutations reach protobuf unpacking and the event checks instead of dying
 * in zstd's framing (which fuzz-batch-decode covers).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct am_batch_limits lim = {
		.max_compressed = 1u << 20,
		.max_decompressed = 1u << 20,
		.max_events = 500,
		.max_string = 256,
		.max_window_log = 23,
	};
	size_t bound = ZSTD_compressBound(size), n;
	uint8_t *frame = malloc(bound);
	am_batch *b = NULL;
	uint8_t *faults = NULL;
	struct am_batch_status st;

	if (frame == NULL) {
		return 0;
	}
	n = ZSTD_compress(frame, bound, data, size, 1);
	if (!ZSTD_isError(n) && am_batch_decode_events(frame, n, &lim, &b, &faults, &st) == 0) {
		uint64_t sum = 0;
		for (size_t i = 0; i < b->n_events; i++) {
			if (faults != NULL && faults[i] != AM_EVENT_OK) {
				/* A rejected event still reaches the ack and rejected_events. */
				sum += b->events[i]->event_id.len + strlen(b->events[i]->tool) +
				       (uint8_t)am_event_fault_name(faults[i])[0];
				continue;
			}
			sum += b->events[i]->cache_read_tokens + b->events[i]->event_id.data[0];
		}
		(void)sum;
		free(faults);
		am_batch_free(b);
	}
	free(frame);
	return 0;
}
