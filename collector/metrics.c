/* metrics.c: Prometheus text exposition; see metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int statuses[METRICS_N_STATUS] = { 200, 400, 401, 404, 405, 408, 409, 411,
						413, 414, 415, 429, 431, 500, 503, 0 };
static const char *const endpoints[METRICS_EP_MAX] = { "batches", "enroll", "healthz",
						       "readyz",  "metrics", "other" };
static const double bounds[METRICS_N_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01, 0.025,
						  0.05,  0.1,    0.25,  0.5,  1,
						  2.5,   5,      10,    30 };

void
metrics_request(struct metrics *m, enum metrics_endpoint endpoint, int status)
{
	int i;

	for (i = 0; i < METRICS_N_STATUS - 1; i++) {
		if (statuses[i] == status) {
			break;
		}
	}
	m->requests[endpoint][i]++; /* the last slot counts any other status */
}

void
metrics_observe(struct metrics_histogram *h, double seconds)
{
	for (int i = 0; i < METRICS_N_BUCKETS; i++) {
		if (seconds <= bounds[i]) {
			h->buckets[i]++;
			break;
		}
	}
	h->count++;
	h->sum += seconds;
}

struct out {
	char *buf;
	size_t len, cap;
	int err;
};

static void
put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err) {
		return;
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->err = -EINVAL;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap * 2 + (size_t)n;
		char *grown = realloc(o->buf, cap);
		if (grown == NULL) {
			o->err = -ENOMEM;
			return;
		}
		o->buf = grown;
		o->cap = cap;
	}
}

static void
histogram(struct out *o, const char *name, const char *help, const struct metrics_histogram *h)
{
	uint64_t cum = 0;

	put(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (int i = 0; i < METRICS_N_BUCKETS; i++) {
		cum += h->buckets[i];
		put(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
	}
	put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
	put(o, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
}

static void
scalar(struct out *o, const char *name, const char *type, const char *help, uint64_t v)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
	    (unsigned long long)v);
}

int
metrics_format(const struct metrics *m, char **ret_buf, size_t *ret_len)
{
	struct out o = { .buf = malloc(8192), .cap = 8192 };

	if (o.buf == NULL) {
		return -ENOMEM;
	}
	o.buf[0] = '\0';
	put(&o, "# HELP aimeter_http_requests_total HTTP requests answered, by endpoint and "
		"status\n# TYPE aimeter_http_requests_total counter\n");
	for (int e = 0; e < METRICS_EP_MAX; e++) {
		for (int s = 0; s < METRICS_N_STATUS; s++) {
			if (m->requests[e][s] == 0) {
				continue;
			}
			if (statuses[s] == 0) {
				put(&o, "aimeter_http_requests_total{endpoint=\"%s\",status=\"other\"} %llu\n",
				    endpoints[e], (unsigned long long)m->requests[e][s]);
			} else {
				put(&o, "aimeter_http_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n",
				    endpoints[e], statuses[s], (unsigned long long)m->requests[e][s]);
			}
		}
	}
	put(&o, "# HELP aimeter_events_total Events by outcome\n"
		"# TYPE aimeter_events_total counter\n"
		"aimeter_events_total{outcome=\"accepted\"} %llu\n"
		"aimeter_events_total{outcome=\"duplicate\"} %llu\n"
		"aimeter_events_total{outcome=\"rejected\"} %llu\n",
	    (unsigned long long)m->events_accepted, (unsigned long long)m->events_duplicate,
	    (unsigned long long)m->events_rejected);
	scalar(&o, "aimeter_batches_committed_total", "counter", "Batches committed",
	       m->batches_committed);
	scalar(&o, "aimeter_batches_unauthorized_total", "counter",
	       "Batches refused for their device token, body not decoded", m->batches_unauthorized);
	scalar(&o, "aimeter_batches_refused_total", "counter",
	       "Batches of known devices refused by the decoder", m->batches_refused);
	scalar(&o, "aimeter_enroll_failures_total", "counter", "Enrollments refused",
	       m->enroll_failures);
	scalar(&o, "aimeter_enroll_rate_limited_total", "counter",
	       "Enrollment attempts over the per-address rate", m->enroll_limited);
	scalar(&o, "aimeter_identities_new_total", "counter",
	       "Identities a device claimed for the first time", m->identities_new);
	histogram(&o, "aimeter_batch_latency_seconds",
		  "From a complete batch request to its acknowledgement", &m->batch_latency);
	histogram(&o, "aimeter_db_transaction_seconds", "One write transaction, BEGIN to COMMIT",
		  &m->db_latency);
	scalar(&o, "aimeter_pending_batches", "gauge", "Batches waiting for or in the database",
	       m->pending_batches);
	scalar(&o, "aimeter_db_transactions_in_flight", "gauge", "Write transactions running",
	       m->transactions_in_flight);
	scalar(&o, "aimeter_db_connections", "gauge", "PostgreSQL connections ready",
	       m->db_connections_up);
	scalar(&o, "aimeter_db_connections_configured", "gauge", "PostgreSQL pool size",
	       m->db_connections_configured);
	scalar(&o, "aimeter_db_errors_total", "counter", "Failed database operations",
	       m->db_errors);
	scalar(&o, "aimeter_db_reconnects_total", "counter", "PostgreSQL connection attempts",
	       m->db_reconnects);
	scalar(&o, "aimeter_tls_handshake_failures_total", "counter", "Failed TLS handshakes",
	       m->tls_handshake_failures);
	scalar(&o, "aimeter_connections_open", "gauge", "Open client connections",
	       m->connections_open);
	scalar(&o, "aimeter_connections_accepted_total", "counter", "Client connections accepted",
	       m->connections_accepted);
	scalar(&o, "aimeter_connections_refused_total", "counter",
	       "Client connections closed at once over the connection limit",
	       m->connections_refused);
	scalar(&o, "aimeter_connection_timeouts_total", "counter",
	       "Connections closed by a header, body or idle timeout", m->timeouts);
	scalar(&o, "aimeter_connections_refused_per_address_total", "counter",
	       "Client connections closed at once over the per-address limit",
	       m->connections_refused_per_address);
	scalar(&o, "aimeter_connection_write_stalls_total", "counter",
	       "Connections closed because the client took none of its responses in time",
	       m->write_stalls);
	scalar(&o, "aimeter_connection_lifetime_ends_total", "counter",
	       "Connections ended by [limits] connection_lifetime_ms", m->lifetime_ends);
	if (o.err) {
		free(o.buf);
		return o.err;
	}
	*ret_buf = o.buf;
	*ret_len = o.len;
	return 0;
}
