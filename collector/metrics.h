/*
 * metrics.h: counters, gauges and histograms for GET /metrics (Prometheus
 * text format 0.0.4), served on its own listener ([listen] metrics).
 * Single-threaded: only the loop touches them.
 */
#ifndef AM_COLLECTOR_METRICS_H
#define AM_COLLECTOR_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_endpoint {
	METRICS_EP_BATCHES,
	METRICS_EP_ENROLL,
	METRICS_EP_HEALTHZ,
	METRICS_EP_READYZ,
	METRICS_EP_METRICS,
	METRICS_EP_OTHER,
	METRICS_EP_MAX
};

#define METRICS_N_STATUS 16
#define METRICS_N_BUCKETS 14

struct metrics_histogram {
	uint64_t buckets[METRICS_N_BUCKETS]; /* cumulative at format time */
	uint64_t count;
	double sum; /* seconds */
};

struct metrics {
	uint64_t requests[METRICS_EP_MAX][METRICS_N_STATUS];
	uint64_t events_accepted, events_duplicate, events_rejected;
	uint64_t batches_committed;
	uint64_t batches_unauthorized, batches_refused; /* 401 before decoding; bad body */
	uint64_t enroll_failures, enroll_limited;
	uint64_t identities_new; /* identities devices claimed for the first time */
	uint64_t tls_handshake_failures;
	uint64_t connections_accepted, connections_refused, timeouts;
	uint64_t connections_refused_per_address, write_stalls, lifetime_ends;
	uint64_t db_errors, db_reconnects;
	struct metrics_histogram batch_latency; /* request complete -> ack queued */
	struct metrics_histogram db_latency;    /* one write transaction */
	/* gauges, set by their owners */
	uint64_t connections_open;
	uint64_t pending_batches;
	uint64_t db_connections_up;
	uint64_t db_connections_configured;
	uint64_t transactions_in_flight;
};

/* metrics_request(m, endpoint, status): count one answered request. */
void metrics_request(struct metrics *m, enum metrics_endpoint endpoint, int status);

/* metrics_observe(h, seconds): add one observation. */
void metrics_observe(struct metrics_histogram *h, double seconds);

/*
 * metrics_format(m, ret_buf, ret_len): the exposition text, malloc'd and
 * owned by the caller. Returns 0 or -ENOMEM.
 */
int metrics_format(const struct metrics *m, char **ret_buf, size_t *ret_len);

#endif
