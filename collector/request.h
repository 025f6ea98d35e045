/*
 * request.h: the contract between net/ and the modules that answer
 * requests. net/ parses HTTP and routes by method and path; a handler gets
 * the parts of the request it may read and a reply callback, and never
 * sees a connection. The core library holds the two header readers every
 * handler needs (request.c).
 */
#ifndef AM_COLLECTOR_REQUEST_H
#define AM_COLLECTOR_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One complete request; every pointer is borrowed for the handler call only. */
struct request {
	const char *content_type;     /* "" when absent */
	const char *content_encoding; /* "" when absent */
	const char *authorization;    /* "" when absent */
	const uint8_t *body;
	size_t body_len;
	const char *peer;     /* the client's address, for logs and rate limits */
	uint64_t received_ns; /* uv_hrtime() when the request was complete */
};

/*
 * reply_fn(arg, status, content_type, body, len, retry_after): answer the
 * request (body is copied). retry_after 0: no Retry-After header. Called
 * at most once per request, never after the handler's cancel.
 */
typedef void (*reply_fn)(void *arg, int status, const char *content_type, const void *body,
			 size_t len, unsigned retry_after);

/*
 * handler_fn(owner, req, reply, reply_arg): handle req. Either answers
 * through reply before returning and returns NULL, or returns a handle and
 * answers later; the caller passes that handle to the route's cancel if
 * the client goes away first.
 */
typedef void *(*handler_fn)(void *owner, const struct request *req, reply_fn reply,
			    void *reply_arg);

/* handler_cancel_fn(handle): drop the pending answer; reply is not called. */
typedef void (*handler_cancel_fn)(void *handle);

/* request_media_type_is(value, want): a Content-Type value is want, maybe with parameters. */
bool request_media_type_is(const char *value, const char *want);

/* request_bearer_token(authorization): the token after "Bearer ", or NULL. */
const char *request_bearer_token(const char *authorization);

#endif
