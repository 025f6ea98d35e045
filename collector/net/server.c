/* server.c: listeners and connections; see server.h. */
#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "tls.h"

int
server_reload_tls(struct server *s, const struct config *cfg)
{
	char err[512];
	SSL_CTX *ctx;

	if (cfg->listen_tls == NULL) {
		return 0;
	}
	ctx = tls_ctx_create(cfg->tls_cert_file, cfg->tls_key_file, err, sizeof(err));
	if (ctx == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	/* Connections hold their own reference to the context they started with. */
	SSL_CTX_free(s->ssl_ctx);
	s->ssl_ctx = ctx;
	return 0;
}

static void
server_connection_cb(uv_stream_t *listener, int status)
{
	struct server *s = listener->data;

	if (status < 0) {
		log_warnx("could not accept a connection: %s", uv_strerror(status));
		return;
	}
	if (listener == (uv_stream_t *)&s->listen_metrics) {
		conn_accept(s, listener, false, CONN_ROLE_METRICS);
		return;
	}
	conn_accept(s, listener, listener == (uv_stream_t *)&s->listen_tls, CONN_ROLE_INGEST);
}

/* "host:port", "[v6]:port" or ":port" (all addresses). */
static int
split_addr(const char *spec, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		if (end == NULL || end[1] != ':') {
			return -EINVAL;
		}
		snprintf(host, hsize, "%.*s", (int)(end - spec - 1), spec + 1);
		snprintf(port, psize, "%s", end + 2);
		return 0;
	}
	colon = strrchr(spec, ':');
	if (colon == NULL || colon[1] == '\0') {
		return -EINVAL;
	}
	snprintf(host, hsize, "%.*s", (int)(colon - spec), spec);
	snprintf(port, psize, "%s", colon + 1);
	return 0;
}

/*
 * Bind ourselves so SO_REUSEPORT can be set (libuv 1.44 has no flag for it).
 * reuseport: set it (ingest listeners, per [listen] reuseport).
 */
static int
listen_on(struct server *s, uv_tcp_t *h, const char *spec, const char *kind, bool reuseport)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	char host[256], port[32], name[128];
	struct sockaddr_storage ss;
	int namelen = sizeof(ss), fd = -1, one = 1, r;

	if (split_addr(spec, host, sizeof(host), port, sizeof(port)) < 0) {
		log_warnx("invalid %s listen address \"%s\" (expected host:port)", kind, spec);
		return -EINVAL;
	}
	r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (r != 0) {
		log_warnx("could not resolve %s listen address \"%s\": %s", kind, spec,
			  gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		log_warn("could not create %s listen socket", kind);
		goto fail;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* best effort */
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		r = -errno;
		log_warn("could not set SO_REUSEPORT on the %s listener", kind);
		goto fail;
	}
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
		r = -errno;
		log_warn("could not bind the %s listener to \"%s\"", kind, spec);
		goto fail;
	}
	r = uv_tcp_init(s->loop, h);
	if (r < 0) {
		goto fail;
	}
	h->data = s;
	s->listeners_open++;
	r = uv_tcp_open(h, fd);
	if (r < 0) {
		log_warnx("could not open the %s listener: %s", kind, uv_strerror(r));
		goto fail_handle;
	}
	fd = -1; /* the handle owns it now */
	r = uv_listen((uv_stream_t *)h, 511, server_connection_cb);
	if (r < 0) {
		log_warnx("could not listen on \"%s\" (%s): %s", spec, kind, uv_strerror(r));
		goto fail_handle;
	}
	if (uv_tcp_getsockname(h, (struct sockaddr *)&ss, &namelen) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, name, sizeof(name));
			log_info("listening on [%s]:%d (%s)", name, ntohs(a->sin6_port), kind);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			uv_ip4_name(a, name, sizeof(name));
			log_info("listening on %s:%d (%s)", name, ntohs(a->sin_port), kind);
		}
	}
	freeaddrinfo(res);
	return 0;
fail_handle:
	/* The caller closes the handle (listeners_open counts it). */
	freeaddrinfo(res);
	if (fd >= 0) {
		close(fd);
	}
	return r < 0 ? r : -EIO;
fail:
	if (fd >= 0) {
		close(fd);
	}
	freeaddrinfo(res);
	return r;
}

static void listener_close_cb(uv_handle_t *h);

/*
 * Without SO_REUSEPORT: scrapes must reach one process, so a second
 * collector on the host needs its own port and says so in its log.
 */
static void
start_metrics(struct server *s, const char *spec)
{
	unsigned before = s->listeners_open;

	if (listen_on(s, &s->listen_metrics, spec, "metrics", false) == 0) {
		s->metrics_open = true;
		return;
	}
	if (s->listeners_open > before) {
		uv_close((uv_handle_t *)&s->listen_metrics, listener_close_cb);
	}
	log_warnx("GET /metrics is not served: could not listen on \"%s\" ([listen] metrics)",
		  spec);
}

/* A secret seed for the per-address table, so clients cannot aim at one chain. */
static uint64_t
hash_seed(void)
{
	uint64_t seed;

	if (uv_random(NULL, NULL, &seed, sizeof(seed), 0, NULL) == 0) {
		return seed;
	}
	return uv_hrtime() ^ ((uint64_t)getpid() << 32); /* weaker, still unknown remotely */
}

void
server_init(struct server *s, uv_loop_t *loop, const struct config *cfg,
	    struct metrics *metrics, const struct router *router,
	    const struct router *metrics_router, server_idle_cb idle_cb, void *idle_arg)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->cfg = cfg;
	s->metrics = metrics;
	s->router = router;
	s->metrics_router = metrics_router;
	s->idle_cb = idle_cb;
	s->idle_arg = idle_arg;
}

void
server_set_config(struct server *s, const struct config *cfg)
{
	s->cfg = cfg;
}

int
server_start(struct server *s)
{
	const struct config *cfg = s->cfg;
	int r;

	peers_init(&s->peers, hash_seed());
	if (cfg->listen_tls != NULL) {
		if (server_reload_tls(s, cfg) < 0) {
			return -EINVAL;
		}
		r = listen_on(s, &s->listen_tls, cfg->listen_tls, "tls", cfg->reuseport);
		if (s->listeners_open > 0) {
			s->tls_open = true;
		}
		if (r < 0) {
			return r;
		}
	}
	if (cfg->listen_plain != NULL) {
		unsigned before = s->listeners_open;
		r = listen_on(s, &s->listen_plain, cfg->listen_plain, "plain",
			      cfg->reuseport);
		if (s->listeners_open > before) {
			s->plain_open = true;
		}
		if (r < 0) {
			return r;
		}
	}
	if (cfg->listen_metrics != NULL) {
		start_metrics(s, cfg->listen_metrics);
	}
	return 0;
}

static void
listener_close_cb(uv_handle_t *h)
{
	struct server *s = h->data;

	s->listeners_open--;
	s->idle_cb(s->idle_arg);
}

void
server_drain(struct server *s)
{
	struct conn *c, *next;

	s->draining = true;
	if (s->tls_open) {
		s->tls_open = false;
		uv_close((uv_handle_t *)&s->listen_tls, listener_close_cb);
	}
	if (s->plain_open) {
		s->plain_open = false;
		uv_close((uv_handle_t *)&s->listen_plain, listener_close_cb);
	}
	if (s->metrics_open) {
		s->metrics_open = false;
		uv_close((uv_handle_t *)&s->listen_metrics, listener_close_cb);
	}
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		conn_drain(c);
	}
}

void
server_close_all(struct server *s)
{
	while (s->conns != NULL) {
		conn_close(s->conns);
	}
}

bool
server_idle(const struct server *s)
{
	return s->listeners_open == 0 && s->conns == NULL;
}

void
server_finish(struct server *s)
{
	SSL_CTX_free(s->ssl_ctx);
	s->ssl_ctx = NULL;
	peers_finish(&s->peers);
}
