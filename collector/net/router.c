/* router.c: method and path to handler; see router.h. */
#include "router.h"

#include <errno.h>
#include <string.h>

void
router_init(struct router *r)
{
	memset(r, 0, sizeof(*r));
}

int
router_add(struct router *r, enum http_method_kind method, const char *path,
	   enum metrics_endpoint endpoint, handler_fn handler, handler_cancel_fn cancel,
	   void *owner)
{
	if (r->n >= ROUTER_MAX) {
		return -ENOSPC;
	}
	r->routes[r->n++] = (struct route){ .method = method, .path = path, .endpoint = endpoint,
					    .handler = handler, .cancel = cancel, .owner = owner };
	return 0;
}

static bool
path_is(const char *url, const char *path)
{
	size_t n = strlen(path);

	return strncmp(url, path, n) == 0 && (url[n] == '\0' || url[n] == '?');
}

int
router_match(const struct router *r, enum http_method_kind method, const char *url,
	     const struct route **ret_route, enum metrics_endpoint *ret_endpoint)
{
	const struct route *other = NULL;

	for (unsigned i = 0; i < r->n; i++) {
		const struct route *rt = &r->routes[i];

		if (!path_is(url, rt->path)) {
			continue;
		}
		if (rt->method == method) {
			*ret_route = rt;
			*ret_endpoint = rt->endpoint;
			return 0;
		}
		other = rt;
	}
	*ret_route = NULL;
	*ret_endpoint = other != NULL ? other->endpoint : METRICS_EP_OTHER;
	return other != NULL ? -EOPNOTSUPP : -ENOENT;
}
