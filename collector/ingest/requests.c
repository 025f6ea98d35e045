/* requests.c: the am_stage_request COPY rows of a decoded batch; see ingest.h. */
#include <stdint.h>

#include "ingest.h"
#include "writepath.h"

int
ingest_format_requests(const am_batch *batch, const uint8_t *faults, int batch_idx,
		       struct writepath_buf *out)
{
	for (size_t i = 0; i < batch->n_events; i++) {
		const char *id = batch->events[i]->request_id;
		int r;

		/* a faulty event is stored nowhere, so it corroborates nothing */
		if (id == NULL || id[0] == '\0' || (faults != NULL && faults[i] != AM_EVENT_OK)) {
			continue;
		}
		r = writepath_format_request(out, batch_idx, (int)i, id);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}
