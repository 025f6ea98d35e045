/* conn.c: the per-connection state machine; see conn.h. */
#include "conn.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "macros.h"
#include "router.h"
#include "server.h"

#define CONN_IN_MAX (256 * 1024) /* pipelined plaintext waiting while busy */
#define CONN_LINGER_MS 5000      /* longest wait for a final response to drain */
#define CONN_METRICS_MAX 16      /* scrapers; not counted in [limits] max_connections */

struct conn_write {
	uv_write_t req;
	struct conn *conn;
	size_t len;
	char data[];
};

static void conn_parse(struct conn *c);
static void conn_arm(struct conn *c);
static void conn_update_reading(struct conn *c);
static void conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void conn_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static uint64_t
now_ms(struct conn *c)
{
	return uv_now(c->server->loop);
}

/* The client went away or timed out: the handler must not answer. */
static void
cancel_call(struct conn *c)
{
	void *call = c->call;
	const struct route *route = c->route;

	c->awaiting = false;
	c->call = NULL;
	c->route = NULL;
	if (call != NULL && route->cancel != NULL) {
		route->cancel(call);
	}
}

/* Responses waiting for the client: in write requests, or still inside OpenSSL. */
static size_t
output_queued(struct conn *c)
{
	return c->out_queued + (c->is_tls ? tls_conn_pending(&c->tls) : 0);
}

static bool
output_full(struct conn *c)
{
	return output_queued(c) > CONN_OUT_MAX;
}

static void
conn_close_cb(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->handles > 0) {
		return;
	}
	tls_conn_finish(&c->tls);
	http_request_finish(&c->req);
	free(c->in);
	free(c);
}

void
conn_close(struct conn *c)
{
	struct server *s = c->server;

	if (c->state == CONN_CLOSING) {
		return;
	}
	c->state = CONN_CLOSING;
	cancel_call(c);
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		s->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	c->prev = c->next = NULL;
	if (c->role == CONN_ROLE_METRICS) {
		s->nmetrics--;
	} else {
		s->nconns--;
	}
	if (c->counted) {
		peers_remove(&s->peers, &c->peer_key);
		c->counted = false;
	}
	s->metrics->connections_open = s->nconns;
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
	uv_close((uv_handle_t *)&c->timer, conn_close_cb);
	s->idle_cb(s->idle_arg);
}

static void conn_resume(struct conn *c);

static void
conn_write_cb(uv_write_t *req, int status)
{
	struct conn_write *w = container_of(req, struct conn_write, req);
	struct conn *c = w->conn;

	c->writes--;
	c->out_queued -= w->len;
	free(w);
	if (c->state == CONN_CLOSING) {
		return;
	}
	if (status < 0) {
		conn_close(c);
		return;
	}
	c->progress_ms = now_ms(c);
	if (c->writes == 0 && c->close_after && c->state != CONN_BUSY) {
		conn_close(c);
		return;
	}
	if (!output_full(c)) {
		conn_resume(c); /* the client takes its responses again */
	}
}

/* Hand w (w->len bytes) to libuv; takes ownership of w, freed in conn_write_cb. */
static int
queue_write(struct conn *c, struct conn_write *w)
{
	uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);
	bool was_empty = c->out_queued == 0;
	int r;

	w->conn = c;
	r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, conn_write_cb);
	if (r < 0) {
		free(w);
		return r;
	}
	c->writes++;
	c->out_queued += w->len;
	if (was_empty) {
		/* The write-stall clock starts now; it may be due before the state's. */
		c->progress_ms = now_ms(c);
		conn_arm(c);
	}
	return 0;
}

static int
write_raw(struct conn *c, const char *data, size_t len)
{
	struct conn_write *w;

	if (len == 0) {
		return 0;
	}
	w = malloc(sizeof(*w) + len);
	if (w == NULL) {
		return -ENOMEM;
	}
	w->len = len;
	memcpy(w->data, data, len);
	return queue_write(c, w);
}

/* Move everything OpenSSL wants sent onto the socket. */
static int
flush_tls(struct conn *c)
{
	size_t pending;

	while ((pending = tls_conn_pending(&c->tls)) > 0) {
		struct conn_write *w = malloc(sizeof(*w) + pending);
		int r;

		if (w == NULL) {
			return -ENOMEM;
		}
		w->len = tls_conn_take_output(&c->tls, w->data, pending);
		if (w->len == 0) {
			free(w);
			return -EIO;
		}
		r = queue_write(c, w);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static int
conn_send(struct conn *c, const char *data, size_t len)
{
	if (!c->is_tls) {
		return write_raw(c, data, len);
	}
	if (tls_conn_write(&c->tls, data, len) != TLS_IO_OK) {
		return -EPROTO;
	}
	return flush_tls(c);
}

/* The current state's deadline passed (header, body, idle, database or linger). */
static void
state_timeout(struct conn *c)
{
	struct metrics *m = c->server->metrics;

	if (c->close_after && c->state != CONN_BUSY) {
		conn_close(c); /* the peer does not take our last response */
		return;
	}
	switch (c->state) {
	case CONN_HANDSHAKE:
		m->timeouts++;
		m->tls_handshake_failures++;
		conn_close(c);
		return;
	case CONN_IDLE:
		conn_close(c);
		return;
	case CONN_HEADERS:
	case CONN_BODY:
		m->timeouts++;
		c->close_after = true;
		c->endpoint = METRICS_EP_OTHER;
		c->state = CONN_BUSY;
		conn_respond(c, 408, "text/plain; charset=utf-8", "request timeout\n", 16, 0);
		return;
	case CONN_BUSY:
		/* The database is too slow for this client; it retries later. */
		cancel_call(c);
		c->close_after = true;
		conn_respond(c, 503, "text/plain; charset=utf-8", "database timeout, retry later\n",
			     30, 2);
		return;
	default:
		return;
	}
}

static void
conn_timer_cb(uv_timer_t *t)
{
	struct conn *c = t->data;
	struct server *s = c->server;
	uint64_t now = now_ms(c);

	if (c->state == CONN_CLOSING) {
		return;
	}
	if (c->out_queued > 0 && now >= c->progress_ms + s->cfg->write_stall_timeout_ms) {
		/* Pipelined requests whose answers are never read: drop them all. */
		s->metrics->write_stalls++;
		conn_close(c);
		return;
	}
	if (now >= c->expires_ms) {
		s->metrics->lifetime_ends++;
		c->expires_ms = UINT64_MAX;
		if (c->state == CONN_IDLE || c->state == CONN_HANDSHAKE || c->close_after) {
			conn_close(c);
			return;
		}
		/* Mid-request: its own timeouts bound it; its response says close. */
		c->retire = true;
	}
	if (now >= c->deadline) {
		c->deadline = UINT64_MAX;
		state_timeout(c);
	}
	if (c->resume_due && c->state != CONN_CLOSING) {
		c->resume_due = false;
		conn_resume(c);
	}
	conn_arm(c);
}

/* Start the timer for the earliest deadline: state, write stall, lifetime, resume. */
static void
conn_arm(struct conn *c)
{
	const struct config *cfg = c->server->cfg;
	uint64_t now = now_ms(c), due = c->deadline;

	if (c->state == CONN_CLOSING) {
		return;
	}
	if (c->out_queued > 0 && c->progress_ms + cfg->write_stall_timeout_ms < due) {
		due = c->progress_ms + cfg->write_stall_timeout_ms;
	}
	if (c->expires_ms < due) {
		due = c->expires_ms;
	}
	if (c->resume_due) {
		due = now;
	}
	if (due == UINT64_MAX) {
		uv_timer_stop(&c->timer);
		return;
	}
	uv_timer_start(&c->timer, conn_timer_cb, due > now ? due - now : 0, 0);
}

/* The current state's timeout: ms from now. */
static void
timer_set(struct conn *c, uint64_t ms)
{
	c->deadline = now_ms(c) + ms;
	conn_arm(c);
}

/* Read only while a request can be taken: nothing buffered, output drained. */
static void
conn_update_reading(struct conn *c)
{
	bool want = c->state != CONN_CLOSING && c->state != CONN_BUSY && !c->close_after &&
		    c->in_len == 0 && !c->resume_due && !output_full(c);

	if (want && !c->reading) {
		int r = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb);
		if (r < 0) {
			conn_close(c);
			return;
		}
		c->reading = true;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

/* Something that held the connection back cleared: parse on, then read. */
static void
conn_resume(struct conn *c)
{
	if (c->state == CONN_CLOSING || c->parsing) {
		return;
	}
	conn_parse(c);
	if (c->state != CONN_CLOSING) {
		conn_update_reading(c);
	}
}

void
conn_respond(struct conn *c, int status, const char *content_type, const void *body, size_t len,
	     unsigned retry_after)
{
	struct server *s = c->server;
	bool keep;
	char head[512];
	char *out;
	int n;

	if (c->state == CONN_CLOSING) {
		return;
	}
	/* The server drains from the moment the collector stops. */
	keep = c->req.keep_alive && !c->close_after && !c->retire && !s->draining;
	n = http_format_response(head, sizeof(head), status, content_type, len, retry_after, keep);
	metrics_request(s->metrics, c->endpoint, status);
	out = n > 0 ? malloc((size_t)n + len) : NULL;
	if (out == NULL) {
		conn_close(c);
		return;
	}
	memcpy(out, head, (size_t)n);
	if (len > 0) {
		memcpy(out + n, body, len);
	}
	if (conn_send(c, out, (size_t)n + len) < 0) {
		free(out);
		conn_close(c);
		return;
	}
	free(out);
	if (!keep) {
		c->close_after = true;
		c->state = CONN_IDLE;
		if (c->is_tls) {
			tls_conn_shutdown(&c->tls);
			if (flush_tls(c) < 0) {
				conn_close(c);
				return;
			}
		}
		conn_update_reading(c);
		if (c->writes == 0) {
			conn_close(c);
		} else {
			timer_set(c, CONN_LINGER_MS);
		}
		return;
	}
	http_request_next(&c->req);
	c->state = CONN_IDLE;
	timer_set(c, s->cfg->idle_timeout_ms);
	conn_resume(c);
}

/* reply_fn for handlers: the answer to the request in progress. */
static void
conn_reply_cb(void *arg, int status, const char *content_type, const void *body, size_t len,
	      unsigned retry_after)
{
	struct conn *c = arg;

	c->awaiting = false;
	c->call = NULL;
	c->route = NULL;
	conn_respond(c, status, content_type, body, len, retry_after);
}

static void
conn_dispatch(struct conn *c)
{
	struct server *s = c->server;
	const struct router *rt = c->role == CONN_ROLE_METRICS ? s->metrics_router : s->router;
	const struct route *route;
	struct request req;
	void *call;
	int r;

	r = router_match(rt, c->req.method, c->req.url, &route, &c->endpoint);
	if (r == -ENOENT) {
		conn_respond(c, 404, "text/plain; charset=utf-8", "not found\n", 10, 0);
		return;
	}
	if (r < 0) {
		conn_respond(c, 405, "text/plain; charset=utf-8", "method not allowed\n", 19, 0);
		return;
	}
	req = (struct request){ .content_type = c->req.content_type,
				.content_encoding = c->req.content_encoding,
				.authorization = c->req.authorization,
				.body = c->req.body,
				.body_len = c->req.body_len,
				.peer = c->peer,
				.received_ns = c->request_ns };
	c->awaiting = true;
	call = route->handler(route->owner, &req, conn_reply_cb, c);
	if (c->awaiting) {
		c->route = route;
		c->call = call;
	}
}

/*
 * Parse buffered plaintext while no request is being handled, the client
 * takes its responses, and this burst has not had its share of the loop.
 */
static void
conn_parse(struct conn *c)
{
	const struct config *cfg = c->server->cfg;
	unsigned handled = 0;

	if (c->parsing) {
		return; /* the outer call goes on */
	}
	c->parsing = true;
	while (c->in_len > 0 && (c->state == CONN_IDLE || c->state == CONN_HEADERS ||
				 c->state == CONN_BODY) && !c->close_after && !output_full(c)) {
		enum http_feed_result r;
		size_t used = 0;

		if (c->state == CONN_IDLE && handled >= CONN_PIPELINE_BURST) {
			c->resume_due = true; /* the rest on a later loop iteration */
			conn_arm(c);
			break;
		}

		if (c->state == CONN_IDLE) {
			c->state = CONN_HEADERS;
			timer_set(c, cfg->header_timeout_ms);
		}
		r = http_request_feed(&c->req, c->in + c->in_off, c->in_len, &used);
		c->in_off += used;
		c->in_len -= used;
		if (r == HTTP_FEED_ERROR) {
			char msg[160];
			int n = snprintf(msg, sizeof(msg), "%s\n",
					 c->req.error_reason ? c->req.error_reason : "bad request");
			c->endpoint = METRICS_EP_OTHER;
			c->close_after = true;
			c->state = CONN_BUSY;
			conn_respond(c, c->req.error_status ? c->req.error_status : 400,
				     "text/plain; charset=utf-8", msg, (size_t)n, 0);
			break;
		}
		if (r == HTTP_FEED_MORE) {
			if (c->req.headers_done && c->state == CONN_HEADERS) {
				c->state = CONN_BODY;
				timer_set(c, cfg->body_timeout_ms);
			}
			if (used == 0) {
				break;
			}
			continue;
		}
		/* One complete request: handle it before reading on. */
		c->state = CONN_BUSY;
		c->request_ns = uv_hrtime();
		handled++;
		timer_set(c, cfg->db_timeout_ms);
		/* Reading stops below if the request stays busy (no read can come in between). */
		conn_dispatch(c);
	}
	if (c->in_len == 0) {
		c->in_off = 0;
	}
	c->parsing = false;
	if (c->state != CONN_CLOSING) {
		conn_update_reading(c);
	}
}

static int
conn_input(struct conn *c, const char *data, size_t len)
{
	if (c->in_off > 0 && c->in_len + len > c->in_cap - c->in_off) {
		memmove(c->in, c->in + c->in_off, c->in_len);
		c->in_off = 0;
	}
	if (c->in_off + c->in_len + len > c->in_cap) {
		size_t cap = c->in_cap ? c->in_cap : 16384;
		char *grown;
		while (cap < c->in_len + len) {
			cap *= 2;
		}
		if (cap > CONN_IN_MAX) {
			return -ENOBUFS;
		}
		grown = realloc(c->in, cap);
		if (grown == NULL) {
			return -ENOMEM;
		}
		c->in = grown;
		c->in_cap = cap;
	}
	memcpy(c->in + c->in_off + c->in_len, data, len);
	c->in_len += len;
	conn_parse(c);
	return 0;
}

static void
conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;

	/* Shared: every read is consumed before the loop reads again. */
	buf->base = c->server->readbuf;
	buf->len = sizeof(c->server->readbuf);
}

static void
tls_failed(struct conn *c)
{
	struct server *s = c->server;
	uint64_t now = now_ms(c);

	if (!c->tls.handshake_done) {
		s->metrics->tls_handshake_failures++;
		/* One line per second at most: a scanner must not flood the log. */
		if (now - s->last_tls_log_ms >= 1000 || s->last_tls_log_ms == 0) {
			s->last_tls_log_ms = now;
			log_warnx("TLS handshake with %s failed: %s", c->peer, c->tls.error);
		}
	}
	/* Send the alert OpenSSL queued, then close; never SSL_shutdown here. */
	c->close_after = true;
	if (flush_tls(c) < 0 || c->writes == 0) {
		conn_close(c);
		return;
	}
	conn_update_reading(c);
	timer_set(c, CONN_LINGER_MS);
}

static void
conn_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = stream->data;

	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0 || c->state == CONN_CLOSING) {
		return;
	}
	if (!c->is_tls) {
		if (conn_input(c, buf->base, (size_t)nread) < 0) {
			conn_close(c);
		}
		return;
	}
	const char *p = buf->base;
	size_t left = (size_t)nread;
	for (;;) {
		size_t got = 0;
		enum tls_io io = tls_conn_feed(&c->tls, p, left, c->server->plainbuf,
					       sizeof(c->server->plainbuf), &got);
		p = NULL;
		left = 0;
		if (c->state == CONN_HANDSHAKE && c->tls.handshake_done) {
			c->state = CONN_IDLE; /* the header timer keeps running */
		}
		if (got > 0 && conn_input(c, c->server->plainbuf, got) < 0) {
			conn_close(c);
			return;
		}
		if (c->state == CONN_CLOSING) {
			return;
		}
		if (io == TLS_IO_FATAL) {
			tls_failed(c);
			return;
		}
		if (io == TLS_IO_CLOSED) {
			(void)flush_tls(c);
			conn_close(c);
			return;
		}
		if (got < sizeof(c->server->plainbuf)) {
			break;
		}
	}
	if (flush_tls(c) < 0) {
		conn_close(c);
	}
}

/* The peer's address: its text for logs and its key for the per-address cap. */
static int
peer_identify(struct conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char host[64] = "?";
	int r;

	r = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len);
	if (r < 0) {
		return r;
	}
	if (ss.ss_family == AF_INET6) {
		uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
	} else {
		uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
	}
	snprintf(c->peer, sizeof(c->peer), "%s", host);
	return peers_key((struct sockaddr *)&ss, &c->peer_key);
}

/* Rate-limited: a flood of refused connections must not flood the log. */
static void
log_refused(struct server *s, const char *peer, const char *why)
{
	uint64_t now = uv_now(s->loop);

	if (s->last_refused_log_ms == 0 || now - s->last_refused_log_ms >= 10000) {
		s->last_refused_log_ms = now;
		log_warnx("refusing connections from %s: %s", peer, why);
	}
}

/* May the accepted connection c stay? Counts it when it may. */
static bool
admit(struct server *s, struct conn *c)
{
	const struct config *cfg = s->cfg;
	const char *why;
	int r;

	if (s->draining) {
		return false;
	}
	if (c->role == CONN_ROLE_METRICS) {
		return s->nmetrics < CONN_METRICS_MAX;
	}
	if (s->nconns >= cfg->max_connections) {
		log_refused(s, c->peer, "at [limits] max_connections");
		return false;
	}
	if (!c->is_tls) {
		return true; /* [listen] plain: the peer is the TLS proxy, every client's address */
	}
	r = peers_add(&s->peers, &c->peer_key, (unsigned)cfg->max_connections_per_address);
	if (r == 0) {
		c->counted = true;
		return true;
	}
	why = r == -EUSERS ? "at [limits] max_connections_per_address" : "out of memory";
	if (r == -EUSERS) {
		s->metrics->connections_refused_per_address++;
	}
	log_refused(s, c->peer, why);
	return false;
}

void
conn_accept(struct server *s, uv_stream_t *listener, bool is_tls, enum conn_role role)
{
	const struct config *cfg = s->cfg;
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		log_warnx("could not accept a connection: out of memory");
		return;
	}
	c->server = s;
	c->role = role;
	c->is_tls = is_tls;
	c->tcp.data = c;
	c->timer.data = c;
	c->state = CONN_IDLE;
	if (uv_tcp_init(s->loop, &c->tcp) < 0) {
		free(c);
		return;
	}
	c->handles = 1;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 || peer_identify(c) < 0 ||
	    !admit(s, c)) {
		s->metrics->connections_refused++;
		c->state = CONN_CLOSING;
		uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
		return;
	}
	uv_timer_init(s->loop, &c->timer);
	c->handles = 2;
	c->next = s->conns;
	if (s->conns != NULL) {
		s->conns->prev = c;
	}
	s->conns = c;
	if (role == CONN_ROLE_METRICS) {
		s->nmetrics++;
	} else {
		s->nconns++;
	}
	s->metrics->connections_open = s->nconns;
	s->metrics->connections_accepted++;
	(void)uv_tcp_nodelay(&c->tcp, 1); /* small responses; failure only costs latency */
	http_request_init(&c->req, cfg->max_header_bytes, cfg->max_body_bytes);
	c->deadline = UINT64_MAX;
	c->expires_ms = uv_now(s->loop) + cfg->connection_lifetime_ms;
	if (is_tls) {
		if (s->ssl_ctx == NULL || tls_conn_init(&c->tls, s->ssl_ctx) < 0) {
			conn_close(c);
			return;
		}
		c->state = CONN_HANDSHAKE;
	}
	/* The first request (and the handshake) must arrive within the header timeout. */
	timer_set(c, cfg->header_timeout_ms);
	conn_update_reading(c);
}

void
conn_drain(struct conn *c)
{
	if (c->state == CONN_IDLE || c->state == CONN_HANDSHAKE) {
		if (c->in_len == 0 || c->close_after) {
			conn_close(c);
		}
	}
	/* Otherwise the response carries Connection: close (server->draining). */
}
