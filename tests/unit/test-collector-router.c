/*
 * test-collector-router.c: the router table (method and path to handler,
 * 404, 405), then net/ on a real loop: a plaintext listener, one client
 * connection, handlers that answer at once, later, or never (the client
 * goes away and the handler's cancel runs). Ends with uv_loop_close() == 0.
 */
#include <errno.h>
#include <string.h>
#include <uv.h>

#include "config.h"
#include "metrics.h"
#include "router.h"
#include "server.h"
#include "test.h"

static void *
answer_now(void *owner, const struct request *req, reply_fn reply, void *reply_arg)
{
	(void)owner;
	(void)req;
	reply(reply_arg, 200, "text/plain", "now\n", 4, 0);
	return NULL;
}

static void
test_match(void)
{
	struct router r;
	const struct route *rt;
	enum metrics_endpoint ep;
	int owner;

	router_init(&r);
	ASSERT_EQ(router_add(&r, HTTP_REQ_POST, "/v1/batches", METRICS_EP_BATCHES, answer_now, NULL,
			     &owner), 0);
	ASSERT_EQ(router_add(&r, HTTP_REQ_GET, "/healthz", METRICS_EP_HEALTHZ, answer_now, NULL,
			     NULL), 0);

	ASSERT_EQ(router_match(&r, HTTP_REQ_POST, "/v1/batches", &rt, &ep), 0);
	ASSERT(rt == &r.routes[0]);
	ASSERT(rt->owner == &owner);
	ASSERT_EQ(ep, METRICS_EP_BATCHES);
	/* A query string is not part of the path. */
	ASSERT_EQ(router_match(&r, HTTP_REQ_GET, "/healthz?verbose=1", &rt, &ep), 0);
	ASSERT_EQ(ep, METRICS_EP_HEALTHZ);
	/* Known path, other method: 405, counted under the path's endpoint. */
	ASSERT_EQ(router_match(&r, HTTP_REQ_GET, "/v1/batches", &rt, &ep), -EOPNOTSUPP);
	ASSERT(rt == NULL);
	ASSERT_EQ(ep, METRICS_EP_BATCHES);
	ASSERT_EQ(router_match(&r, HTTP_REQ_OTHER, "/healthz", &rt, &ep), -EOPNOTSUPP);
	/* Unknown paths, prefixes included: 404. */
	ASSERT_EQ(router_match(&r, HTTP_REQ_GET, "/healthzz", &rt, &ep), -ENOENT);
	ASSERT_EQ(ep, METRICS_EP_OTHER);
	ASSERT_EQ(router_match(&r, HTTP_REQ_POST, "/v1/batches/x", &rt, &ep), -ENOENT);
	ASSERT_EQ(router_match(&r, HTTP_REQ_GET, "/", &rt, &ep), -ENOENT);
	ASSERT_EQ(router_match(&r, HTTP_REQ_GET, "/metrics", &rt, &ep), -ENOENT);

	while (r.n < ROUTER_MAX) {
		ASSERT_EQ(router_add(&r, HTTP_REQ_GET, "/x", METRICS_EP_OTHER, answer_now, NULL,
				     NULL), 0);
	}
	ASSERT_EQ(router_add(&r, HTTP_REQ_GET, "/y", METRICS_EP_OTHER, answer_now, NULL, NULL),
		  -ENOSPC);
}

/* ---- net/ on a loop --------------------------------------------------------- */

struct fixture {
	uv_loop_t loop;
	struct config *cfg;
	struct metrics metrics;
	struct router router, metrics_router;
	struct server server;
	uv_tcp_t client;
	uv_connect_t connect;
	uv_write_t write;
	uv_timer_t later; /* answers the "later" handler */
	reply_fn later_reply;
	void *later_arg;
	char got[4096];
	size_t got_len;
	unsigned idle_calls, cancels, never_calls;
	int never_handle;
	bool client_closed;
};

static struct fixture fx;

static void
later_cb(uv_timer_t *t)
{
	(void)t;
	fx.later_reply(fx.later_arg, 202, "text/plain", "later\n", 6, 0);
	uv_close((uv_handle_t *)&fx.later, NULL);
}

static void *
answer_later(void *owner, const struct request *req, reply_fn reply, void *reply_arg)
{
	(void)owner;
	ASSERT_STR_EQ(req->peer, "127.0.0.1");
	fx.later_reply = reply;
	fx.later_arg = reply_arg;
	ASSERT_EQ(uv_timer_init(&fx.loop, &fx.later), 0);
	ASSERT_EQ(uv_timer_start(&fx.later, later_cb, 0, 0), 0);
	return &fx.later;
}

static void *
answer_never(void *owner, const struct request *req, reply_fn reply, void *reply_arg)
{
	(void)owner;
	(void)req;
	(void)reply;
	(void)reply_arg;
	fx.never_calls++;
	return &fx.never_handle;
}

static void
cancel_cb(void *handle)
{
	ASSERT(handle == &fx.never_handle || handle == &fx.later);
	fx.cancels++;
}

static void
idle_cb(void *arg)
{
	ASSERT(arg == &fx);
	fx.idle_calls++;
}

static void
client_close_cb(uv_handle_t *h)
{
	(void)h;
	fx.client_closed = true;
	/* Reading stops while a request is busy, so the server would notice the
	 * client only at the database timeout; shut down as SIGTERM's timer does. */
	server_drain(&fx.server);
	server_close_all(&fx.server);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	buf->base = fx.got + fx.got_len;
	buf->len = sizeof(fx.got) - 1 - fx.got_len;
}

/* Four answers: 404, 405, 200 now, 202 later; the fifth request never ends. */
static void
read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	if (nread < 0) {
		uv_close((uv_handle_t *)s, client_close_cb);
		return;
	}
	fx.got_len += (size_t)nread;
	fx.got[fx.got_len] = '\0';
	if (strstr(fx.got, "HTTP/1.1 202") != NULL && fx.never_calls == 1) {
		/* The client gives up on the request the handler never answers. */
		uv_close((uv_handle_t *)s, client_close_cb);
	}
}

static void
write_cb(uv_write_t *w, int status)
{
	(void)w;
	ASSERT_EQ(status, 0);
}

static void
connect_cb(uv_connect_t *c, int status)
{
	static char reqs[] = "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
			     "POST /now HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
			     "GET /now HTTP/1.1\r\nHost: t\r\n\r\n"
			     "GET /later HTTP/1.1\r\nHost: t\r\n\r\n"
			     "GET /never HTTP/1.1\r\nHost: t\r\n\r\n";
	uv_buf_t buf = uv_buf_init(reqs, sizeof(reqs) - 1);

	ASSERT_EQ(status, 0);
	ASSERT_EQ(uv_write(&fx.write, c->handle, &buf, 1, write_cb), 0);
	ASSERT_EQ(uv_read_start(c->handle, alloc_cb, read_cb), 0);
}

static void
test_loop(void)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	ASSERT_EQ(uv_loop_init(&fx.loop), 0);
	fx.cfg = config_create();
	ASSERT_NOT_NULL(fx.cfg);
	ASSERT_EQ(config_set(fx.cfg, "listen.plain", "127.0.0.1:0", "test"), 0);
	ASSERT_EQ(config_set(fx.cfg, "listen.metrics", "off", "test"), 0);
	ASSERT_EQ(config_set(fx.cfg, "listen.reuseport", "false", "test"), 0);
	router_init(&fx.router);
	router_init(&fx.metrics_router);
	ASSERT_EQ(router_add(&fx.router, HTTP_REQ_GET, "/now", METRICS_EP_HEALTHZ, answer_now,
			     NULL, NULL), 0);
	ASSERT_EQ(router_add(&fx.router, HTTP_REQ_GET, "/later", METRICS_EP_BATCHES, answer_later,
			     cancel_cb, NULL), 0);
	ASSERT_EQ(router_add(&fx.router, HTTP_REQ_GET, "/never", METRICS_EP_ENROLL, answer_never,
			     cancel_cb, NULL), 0);
	server_init(&fx.server, &fx.loop, fx.cfg, &fx.metrics, &fx.router, &fx.metrics_router,
		    idle_cb, &fx);
	ASSERT_EQ(server_start(&fx.server), 0);
	ASSERT_EQ(uv_tcp_getsockname(&fx.server.listen_plain, (struct sockaddr *)&ss, &len), 0);
	ASSERT_EQ(uv_tcp_init(&fx.loop, &fx.client), 0);
	ASSERT_EQ(uv_tcp_connect(&fx.connect, &fx.client, (struct sockaddr *)&ss, connect_cb), 0);

	ASSERT_EQ(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);

	ASSERT(fx.client_closed);
	ASSERT(strstr(fx.got, "HTTP/1.1 404") != NULL);
	ASSERT(strstr(fx.got, "HTTP/1.1 405") != NULL);
	ASSERT(strstr(fx.got, "HTTP/1.1 200") != NULL);
	ASSERT(strstr(fx.got, "later\n") != NULL);
	/* In order: one request at a time per connection. */
	ASSERT(strstr(fx.got, "HTTP/1.1 404") < strstr(fx.got, "HTTP/1.1 405"));
	ASSERT(strstr(fx.got, "HTTP/1.1 200") < strstr(fx.got, "HTTP/1.1 202"));
	ASSERT_EQ(fx.never_calls, 1);
	ASSERT_EQ(fx.cancels, 1); /* only the unanswered request */
	ASSERT_GE(fx.idle_calls, 1);
	ASSERT(server_idle(&fx.server));
	/* Counted by endpoint and status (metrics.c slots: 200, 400, 401, 404, 405, ...);
	 * the 405 under the path it asked for. */
	ASSERT_UINT_EQ(fx.metrics.requests[METRICS_EP_OTHER][3], 1);
	ASSERT_UINT_EQ(fx.metrics.requests[METRICS_EP_HEALTHZ][0], 1);
	ASSERT_UINT_EQ(fx.metrics.requests[METRICS_EP_HEALTHZ][4], 1);
	server_finish(&fx.server);
	config_destroy(fx.cfg);
	ASSERT_EQ(uv_loop_close(&fx.loop), 0);
}

int
main(void)
{
	test_match();
	test_loop();
	return 0;
}
