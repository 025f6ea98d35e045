/*
 * conn.h: one client connection: TLS (optional), HTTP framing, timers and
 * the request in progress. One request at a time: reading stops while a
 * request is handled, and pipelined bytes wait in a bounded buffer.
 *
 * Resources a client can make us hold are bounded: reading and parsing stop
 * while more than CONN_OUT_MAX bytes of responses wait for the client, and
 * a client that takes none of them for [limits] write_stall_timeout_ms is
 * closed; at most CONN_PIPELINE_BURST pipelined requests are answered
 * before other connections get their turn; every connection ends after
 * [limits] connection_lifetime_ms.
 */
#ifndef AM_COLLECTOR_CONN_H
#define AM_COLLECTOR_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http.h"
#include "metrics.h"
#include "peers.h"
#include "tls.h"

#define CONN_OUT_MAX (64 * 1024)  /* queued response bytes above which we stop reading */
#define CONN_PIPELINE_BURST 16    /* requests answered in one go before yielding */

struct route;
struct server;

enum conn_state {
	CONN_HANDSHAKE, /* TLS handshake, under the header timeout */
	CONN_IDLE,      /* between requests, under the idle timeout */
	CONN_HEADERS,   /* first byte seen, under the header timeout */
	CONN_BODY,      /* headers done, under the body timeout */
	CONN_BUSY,      /* request being handled, under the database timeout */
	CONN_CLOSING,
	CONN_STATE_MAX
};

/* Which listener accepted the connection: what it may ask for. */
enum conn_role {
	CONN_ROLE_INGEST,  /* /v1/ endpoints, /healthz, /readyz */
	CONN_ROLE_METRICS, /* /metrics only */
	CONN_ROLE_MAX
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer; /* the earliest of the deadlines below */
	struct server *server;
	struct conn *prev, *next; /* the server's list */
	enum conn_role role;
	bool is_tls;
	struct tls_conn tls;
	struct http_request req;
	char *in; /* plaintext not yet parsed; owned */
	size_t in_off, in_len, in_cap;
	enum conn_state state;
	bool parsing;     /* inside conn_parse: do not re-enter */
	bool close_after; /* close once the response is written */
	bool reading;
	bool resume_due;  /* a pipelining burst was cut short: go on from the timer */
	bool retire;      /* lifetime over: the current response closes the connection */
	bool counted;     /* peer_key is counted in the server's peers */
	unsigned handles; /* open libuv handles; freed when 0 */
	unsigned writes;  /* write requests in flight */
	size_t out_queued;    /* bytes in those write requests */
	uint64_t deadline;    /* loop ms: the current state's timeout; UINT64_MAX: none */
	uint64_t progress_ms; /* loop ms: output last made progress (or was first queued) */
	uint64_t expires_ms;  /* loop ms: end of the connection's lifetime */
	struct peer_key peer_key;
	bool awaiting;            /* a handler has the request and has not answered */
	const struct route *route; /* the handler answering later, if any */
	void *call;               /* its cancel handle */
	enum metrics_endpoint endpoint;
	uint64_t request_ns; /* when the request was complete */
	char peer[64];
};

/*
 * conn_accept(server, listener, is_tls, role): accept one pending connection
 * from listener. Over the global or per-address connection limit it is
 * accepted and closed at once.
 */
void conn_accept(struct server *server, uv_stream_t *listener, bool is_tls, enum conn_role role);

/*
 * conn_respond(c, status, content_type, body, len, retry_after):
 * Answer the request in progress (body is copied), then go on with the
 * next request or close. retry_after 0: no Retry-After header.
 */
void conn_respond(struct conn *c, int status, const char *content_type, const void *body,
		  size_t len, unsigned retry_after);

/* conn_close(c): close now, dropping queued output; idempotent. */
void conn_close(struct conn *c);

/* conn_drain(c): shutdown: close if idle, else after the current response. */
void conn_drain(struct conn *c);

#endif
