/* fuzz-batch-decode.c: untrusted request bodies through the batch decoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct am_batch_limits lim = {
		.max_compressed = 1u << 20,
		.max_decompressed = 4u << 20,
		.max_events = 2000,
		.max_string = 256,
		.max_window_log = 23,
	};
	am_batch *b = NULL;
	uint8_t *faults = NULL;
	struct am_batch_status st;

	if (am_batch_decode_events(data, size, &lim, &b, &faults, &st) == 0) {
		/* Touch every event so ASan sees any bad pointer protobuf-c made. */
		uint64_t sum = 0;
		for (size_t i = 0; i < b->n_events; i++) {
			if (faults != NULL && faults[i] != AM_EVENT_OK) {
				/* A rejected event still reaches the ack and rejected_events. */
				sum += b->events[i]->event_id.len + strlen(b->events[i]->tool) +
				       (uint8_t)am_event_fault_name(faults[i])[0];
				continue;
			}
			sum += b->events[i]->output_tokens + b->events[i]->event_id.data[15];
		}
		/* Actions (schema 2) follow the events in the fault list. */
		for (size_t i = 0; i < b->n_actions; i++) {
			const am_action_record *a = b->actions[i];
			if (faults != NULL && faults[b->n_events + i] != AM_EVENT_OK) {
				sum += a->action_id.len + strlen(a->tool) +
				       (uint8_t)am_event_fault_name(faults[b->n_events + i])[0];
				continue;
			}
			sum += a->lines_added + a->action_id.data[15] + strlen(a->tool_name) +
			       strlen(a->target) + strlen(a->file_ext);
		}
		(void)sum;
		free(faults);
		am_batch_free(b);
	}
	return 0;
}
