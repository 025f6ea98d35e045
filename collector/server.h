/*
 * server.h: the listeners (TLS and optional plaintext, SO_REUSEPORT so
 * several collectors can share a port; a plaintext /metrics listener of its
 * own) and the list of connections with their per-address counts.
 */
#ifndef AM_COLLECTOR_SERVER_H
#define AM_COLLECTOR_SERVER_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <uv.h>

#include "peers.h"

struct collector;
struct config;
struct conn;

#define SERVER_READ_BUF 65536

struct server {
	struct collector *col;
	uv_tcp_t listen_tls, listen_plain, listen_metrics;
	bool tls_open, plain_open, metrics_open;
	SSL_CTX *ssl_ctx; /* new connections use it; old ones keep theirs */
	struct conn *conns;
	unsigned nconns;   /* on the ingest listeners ([limits] max_connections) */
	unsigned nmetrics; /* on the metrics listener */
	struct peers peers;
	bool draining;
	unsigned listeners_open;
	char readbuf[SERVER_READ_BUF];  /* one read at a time on one loop */
	char plainbuf[SERVER_READ_BUF]; /* TLS plaintext, consumed at once */
};

/*
 * server_start(s, col): load the TLS context and open the listeners of
 * col->cfg. Logs and returns a negative errno on failure. A metrics
 * listener that cannot be opened is logged and left out: ingest matters more.
 */
int server_start(struct server *s, struct collector *col);

/*
 * server_reload_tls(s, cfg): load cfg's certificate and key into a new
 * context for new connections; open connections are untouched. On failure
 * the old context stays. Returns 0 or -1 (logged).
 */
int server_reload_tls(struct server *s, const struct config *cfg);

/* server_drain(s): stop accepting, close idle connections, finish busy ones. */
void server_drain(struct server *s);

/* server_close_all(s): close every connection now (shutdown timeout). */
void server_close_all(struct server *s);

/* server_idle(s): listeners and connections are all closed. */
bool server_idle(const struct server *s);

/* server_finish(s): free the TLS context and the peer counts after the loop ran out. */
void server_finish(struct server *s);

#endif
