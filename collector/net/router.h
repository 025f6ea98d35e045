/*
 * router.h: a table from method and path to a handler. A listener owns one
 * router; net/ asks it which handler answers a request, and answers 404
 * (unknown path) or 405 (known path, other method) itself. Pure: no I/O.
 */
#ifndef AM_COLLECTOR_ROUTER_H
#define AM_COLLECTOR_ROUTER_H

#include "http.h"
#include "metrics.h"
#include "request.h"

#define ROUTER_MAX 8

struct route {
	enum http_method_kind method;
	const char *path; /* borrowed; a string constant */
	enum metrics_endpoint endpoint;
	handler_fn handler;
	handler_cancel_fn cancel; /* NULL: the handler always answers at once */
	void *owner;
};

struct router {
	struct route routes[ROUTER_MAX];
	unsigned n;
};

/* router_init(r): an empty table. */
void router_init(struct router *r);

/*
 * router_add(r, method, path, endpoint, handler, cancel, owner): route
 * method and path (borrowed: keep it alive) to handler. Returns 0, or
 * -ENOSPC when the table is full.
 */
int router_add(struct router *r, enum http_method_kind method, const char *path,
	       enum metrics_endpoint endpoint, handler_fn handler, handler_cancel_fn cancel,
	       void *owner);

/*
 * router_match(r, method, url, ret_route, ret_endpoint): the route for a
 * request. url matches a path exactly or followed by a query ('?').
 * Returns 0 (*ret_route set), -ENOENT (no such path: 404) or -EOPNOTSUPP
 * (the path exists for another method: 405). *ret_endpoint is the path's
 * endpoint for counting, METRICS_EP_OTHER for an unknown path.
 */
int router_match(const struct router *r, enum http_method_kind method, const char *url,
		 const struct route **ret_route, enum metrics_endpoint *ret_endpoint);

#endif
