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

struct config;
struct conn;
struct metrics;
struct router;

/* server_idle_cb(arg): a listener or a connection closed; see server_idle(). */
typedef void (*server_idle_cb)(void *arg);

#define SERVER_READ_BUF 65536

struct server {
	uv_loop_t *loop;
	const struct config *cfg;      /* borrowed; replaced by server_set_config */
	struct metrics *metrics;       /* borrowed */
	const struct router *router;   /* the ingest listeners' routes; borrowed */
	const struct router *metrics_router; /* the metrics listener's routes; borrowed */
	server_idle_cb idle_cb;
	void *idle_arg;
	uint64_t last_tls_log_ms;     /* rate limits of per-connection warnings */
	uint64_t last_refused_log_ms;
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
 * server_init(s, loop, cfg, metrics, router, metrics_router, idle_cb, idle_arg):
 * No listener yet. Requests on the ingest listeners go through router,
 * those on the metrics listener through metrics_router (all borrowed).
 * idle_cb runs with idle_arg whenever a listener or connection closes.
 */
void server_init(struct server *s, uv_loop_t *loop, const struct config *cfg,
		 struct metrics *metrics, const struct router *router,
		 const struct router *metrics_router, server_idle_cb idle_cb, void *idle_arg);

/* server_set_config(s, cfg): limits and timeouts from cfg (borrowed) from now on. */
void server_set_config(struct server *s, const struct config *cfg);

/*
 * server_start(s): load the TLS context and open the listeners of the
 * configuration. Logs and returns a negative errno on failure. A metrics
 * listener that cannot be opened is logged and left out: ingest matters more.
 */
int server_start(struct server *s);

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
