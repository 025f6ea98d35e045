/*
 * fetch.h: one HTTPS GET with libcurl, synchronous, for `aimeterctl billing
 * pull` (a command, not the event loop: STYLE allows an easy handle with
 * timeouts). TLS is always verified; only https URLs are followed; the
 * body is capped. Headers may hold secrets: they are wiped after the call
 * and never printed.
 */
#ifndef AM_BILLING_FETCH_H
#define AM_BILLING_FETCH_H

#include <stddef.h>

#define FETCH_ERR_MAX 256

struct fetch_request {
	const char *url;	    /* borrowed */
	const char *const *headers; /* "Name: value", borrowed; wiped copies only */
	size_t n_headers;
	const char *ca_file; /* CA bundle, or NULL for the system's */
	size_t max_body;     /* a longer body fails with -EFBIG */
};

struct fetch_response {
	long status;	  /* HTTP status */
	char *body;	  /* malloc'd, NUL-terminated; owned */
	size_t len;
	long retry_after; /* Retry-After in seconds, -1 when absent or not a number */
};

/*
 * fetch_get(req, ret, err, err_len): GET req->url. Returns 0 when an HTTP
 * answer came (whatever its status), or -errno (-EIO, -ETIMEDOUT,
 * -EFBIG, -ENOMEM) with libcurl's reason in err. Call fetch_response_finish
 * either way.
 */
int fetch_get(const struct fetch_request *req, struct fetch_response *ret, char *err,
	      size_t err_len);

/* fetch_response_finish(r): free the body; accepts a zeroed response. */
void fetch_response_finish(struct fetch_response *r);

/* fetch_escape(s, ret, size): s percent-encoded for a query string; -ENAMETOOLONG if it does not fit. */
int fetch_escape(const char *s, char *ret, size_t size);

#endif
