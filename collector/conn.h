/*
 * conn.h: one client connection: TLS (optional), HTTP framing, timers and
 * the request in progress. One request at a time: reading stops while a
 * request is handled, and pipelined bytes wait in a bounded buffer.
 */
#ifndef AM_COLLECTOR_CONN_H
#define AM_COLLECTOR_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http.h"
#include "metrics.h"
#include "tls.h"

struct server;
struct ingest_item;

enum conn_state {
	CONN_HANDSHAKE, /* TLS handshake, under the header timeout */
	CONN_IDLE,      /* between requests, under the idle timeout */
	CONN_HEADERS,   /* first byte seen, under the header timeout */
	CONN_BODY,      /* headers done, under the body timeout */
	CONN_BUSY,      /* request being handled, under the database timeout */
	CONN_CLOSING,
	CONN_STATE_MAX
};

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct server *server;
	struct conn *prev, *next; /* the server's list */
	bool is_tls;
	struct tls_conn tls;
	struct http_request req;
	char *in; /* plaintext not yet parsed; owned */
	size_t in_off, in_len, in_cap;
	enum conn_state state;
	bool parsing;     /* inside conn_parse: do not re-enter */
	bool close_after; /* close once the response is written */
	bool reading;
	unsigned handles; /* open libuv handles; freed when 0 */
	unsigned writes;  /* write requests in flight */
	struct ingest_item *item; /* the request in the database, if any */
	enum metrics_endpoint endpoint;
	uint64_t request_ns; /* when the request was complete */
	char peer[64];
};

/*
 * conn_accept(server, listener, is_tls): accept one pending connection from
 * listener. Over the connection limit it is accepted and closed at once.
 */
void conn_accept(struct server *server, uv_stream_t *listener, bool is_tls);

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
