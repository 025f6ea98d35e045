/* rows.c: the am_stage COPY rows of a decoded batch; see ingest.h. */
#include <stdint.h>

#include "ingest.h"
#include "writepath.h"

int
ingest_format_events(const uint8_t *key, size_t key_len, const char *device_team,
		     const am_batch *batch, const uint8_t *faults, int batch_idx,
		     struct writepath_buf *out)
{
	for (size_t i = 0; i < batch->n_events; i++) {
		const am_usage_event *e = batch->events[i];
		uint8_t mac[AM_IDENTITY_HMAC_LEN];
		const uint8_t *hmac = NULL;
		const char *reason = faults != NULL && faults[i] != AM_EVENT_OK ?
					     am_event_fault_name((enum am_event_fault)faults[i]) :
					     NULL;
		int r;

		/* The raw identity never reaches a row: only its keyed hash. */
		if (e->user != NULL && e->user[0] != '\0' && key_len > 0 &&
		    identity_hmac(key, key_len, e->user, mac) == 0) {
			hmac = mac;
		}
		/* The agent's own hint wins; the enrollment secret's team fills a gap. */
		const char *team = device_team != NULL && device_team[0] != '\0' &&
						   (e->team_hint == NULL || e->team_hint[0] == '\0') ?
					   device_team :
					   NULL;
		/* A faulty event is staged with its reason: ingest_staged stores it. */
		r = writepath_format_event(out, batch_idx, (int)i, e, hmac, team, reason);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}
