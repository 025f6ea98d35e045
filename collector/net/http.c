/* http.c: HTTP/1.1 request framing with limits; see http.h. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { HDR_NONE = -1, HDR_CONTENT_TYPE, HDR_CONTENT_ENCODING, HDR_AUTHORIZATION, HDR_MAX };

static struct http_request *
req_of(http_parser *p)
{
	return p->data;
}

static int
fail(struct http_request *r, int status, const char *reason)
{
	if (r->error_status == 0) {
		r->error_status = status;
		r->error_reason = reason;
	}
	return 1; /* non-zero stops http_parser with HPE_CB_* */
}

static int
count_header(struct http_request *r, size_t len)
{
	r->header_bytes += len;
	if (r->header_bytes > r->max_header) {
		return fail(r, 431, "request headers too large");
	}
	return 0;
}

static int
on_message_begin(http_parser *p)
{
	req_of(p)->started = true;
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct http_request *r = req_of(p);

	if (count_header(r, len)) {
		return 1;
	}
	if (r->url_len + len >= sizeof(r->url)) {
		return fail(r, 414, "request target too long");
	}
	memcpy(r->url + r->url_len, at, len);
	r->url_len += len;
	r->url[r->url_len] = '\0';
	return 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_request *r = req_of(p);

	if (count_header(r, len)) {
		return 1;
	}
	if (r->in_value) {
		r->in_value = false;
		r->field_len = 0;
		r->cur = HDR_NONE;
	}
	/* Names we do not care about may be long; keep only a prefix to compare. */
	size_t room = sizeof(r->field) - 1 - r->field_len;
	size_t n = len < room ? len : room;
	memcpy(r->field + r->field_len, at, n);
	r->field_len += n;
	r->field[r->field_len] = '\0';
	if (len > room) {
		r->field[0] = '\0'; /* too long to be one we know */
	}
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_request *r = req_of(p);
	char *dst;

	if (count_header(r, len)) {
		return 1;
	}
	if (!r->in_value) {
		r->in_value = true;
		if (strcasecmp(r->field, "content-type") == 0) {
			r->cur = HDR_CONTENT_TYPE;
		} else if (strcasecmp(r->field, "content-encoding") == 0) {
			r->cur = HDR_CONTENT_ENCODING;
		} else if (strcasecmp(r->field, "authorization") == 0) {
			r->cur = HDR_AUTHORIZATION;
		} else {
			r->cur = HDR_NONE;
		}
		if (r->cur != HDR_NONE && r->value_len[r->cur] > 0) {
			return fail(r, 400, "repeated header");
		}
	}
	switch (r->cur) {
	case HDR_CONTENT_TYPE:
		dst = r->content_type;
		break;
	case HDR_CONTENT_ENCODING:
		dst = r->content_encoding;
		break;
	case HDR_AUTHORIZATION:
		dst = r->authorization;
		break;
	default:
		return 0;
	}
	if (r->value_len[r->cur] + len >= HTTP_VALUE_MAX) {
		return fail(r, 431, "header value too long");
	}
	memcpy(dst + r->value_len[r->cur], at, len);
	r->value_len[r->cur] += len;
	dst[r->value_len[r->cur]] = '\0';
	return 0;
}

/* OTLP/HTTP senders may stream a body of unknown length (the OpenTelemetry JS
 * SDK's exporters always do: Transfer-Encoding: chunked). Only those paths
 * take chunked bodies; the agent's endpoints keep requiring Content-Length. */
static bool
takes_chunked(const struct http_request *r)
{
	static const char *const paths[] = { "/v1/logs", "/v1/metrics", "/v1/traces" };
	size_t len = strcspn(r->url, "?");

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (strlen(paths[i]) == len && memcmp(paths[i], r->url, len) == 0) {
			return true;
		}
	}
	return false;
}

static int
on_headers_complete(http_parser *p)
{
	struct http_request *r = req_of(p);

	r->headers_done = true;
	switch (p->method) {
	case HTTP_GET:
		r->method = HTTP_REQ_GET;
		break;
	case HTTP_POST:
		r->method = HTTP_REQ_POST;
		break;
	default:
		r->method = HTTP_REQ_OTHER;
		break;
	}
	if (p->upgrade) {
		fail(r, 400, "protocol upgrade is not supported");
		return -1; /* 1 and 2 mean "skip body" */
	}
	if ((p->flags & F_CHUNKED) && r->method == HTTP_REQ_POST && takes_chunked(r)) {
		r->chunked = true;
		r->body_expected = r->max_body; /* grown as bytes arrive, never past it */
		return 0;
	}
	if (p->flags & F_CHUNKED) {
		fail(r, 411, "chunked bodies are not accepted; send Content-Length");
		return -1; /* 1 and 2 mean "skip body" */
	}
	r->has_content_length = (p->flags & F_CONTENTLENGTH) != 0;
	if (r->has_content_length && p->content_length > 0) {
		if (p->content_length > r->max_body) {
			fail(r, 413, "request body too large");
			return -1; /* 1 and 2 mean "skip body" */
		}
		/* Allocated in on_body as bytes arrive: a header alone costs nothing. */
		r->body_expected = (size_t)p->content_length;
	} else if (r->method == HTTP_REQ_POST && !r->has_content_length) {
		fail(r, 411, "POST needs Content-Length");
		return -1; /* 1 and 2 mean "skip body" */
	}
	return 0;
}

/* Room for len more body bytes: doubling from HTTP_BODY_FIRST, never past Content-Length. */
static int
body_reserve(struct http_request *r, size_t len)
{
	size_t need = r->body_len + len, cap = r->body_cap;
	uint8_t *grown;

	if (need <= cap) {
		return 0;
	}
	if (cap == 0) {
		cap = HTTP_BODY_FIRST;
	}
	while (cap < need) {
		cap *= 2;
	}
	if (cap > r->body_expected) {
		cap = r->body_expected;
	}
	grown = realloc(r->body, cap);
	if (grown == NULL) {
		return -1;
	}
	r->body = grown;
	r->body_cap = cap;
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct http_request *r = req_of(p);

	if (r->body_len + len > r->body_expected) {
		return r->chunked ? fail(r, 413, "request body too large")
				  : fail(r, 400, "body longer than Content-Length");
	}
	if (body_reserve(r, len) < 0) {
		return fail(r, 503, "out of memory");
	}
	memcpy(r->body + r->body_len, at, len);
	r->body_len += len;
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	struct http_request *r = req_of(p);

	r->complete = true;
	r->keep_alive = http_should_keep_alive(p) != 0;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static void
reset_message(struct http_request *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = r->body_expected = 0;
	r->started = r->headers_done = r->complete = false;
	r->header_bytes = 0;
	r->method = HTTP_REQ_OTHER;
	r->url[0] = '\0';
	r->url_len = 0;
	r->field[0] = '\0';
	r->field_len = 0;
	r->in_value = false;
	r->cur = HDR_NONE;
	r->content_type[0] = r->content_encoding[0] = r->authorization[0] = '\0';
	memset(r->value_len, 0, sizeof(r->value_len));
	r->has_content_length = false;
	r->chunked = false;
	r->keep_alive = false;
	r->error_status = 0;
	r->error_reason = NULL;
}

void
http_request_init(struct http_request *r, size_t max_header, size_t max_body)
{
	memset(r, 0, sizeof(*r));
	r->max_header = max_header;
	r->max_body = max_body;
	http_parser_init(&r->parser, HTTP_REQUEST);
	r->parser.data = r;
	reset_message(r);
}

void
http_request_finish(struct http_request *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = 0;
}

void
http_request_next(struct http_request *r)
{
	reset_message(r);
	http_parser_pause(&r->parser, 0);
}

enum http_feed_result
http_request_feed(struct http_request *r, const char *data, size_t len, size_t *ret_consumed)
{
	size_t n;
	enum http_errno e;

	if (r->error_status != 0) {
		*ret_consumed = 0;
		return HTTP_FEED_ERROR;
	}
	n = http_parser_execute(&r->parser, &settings, data, len);
	*ret_consumed = n;
	e = HTTP_PARSER_ERRNO(&r->parser);
	if (e == HPE_PAUSED) {
		return r->complete ? HTTP_FEED_DONE : HTTP_FEED_ERROR;
	}
	if (e != HPE_OK) {
		if (r->error_status == 0) {
			r->error_status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
			r->error_reason = http_errno_description(e);
		}
		return HTTP_FEED_ERROR;
	}
	if (r->complete) {
		return HTTP_FEED_DONE;
	}
	return HTTP_FEED_MORE;
}

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

int
http_format_response(char *buf, size_t size, int status, const char *content_type,
		     size_t body_len, unsigned retry_after, bool keep_alive)
{
	char retry[48] = "";
	int n;

	if (retry_after > 0) {
		snprintf(retry, sizeof(retry), "Retry-After: %u\r\n", retry_after);
	}
	n = snprintf(buf, size,
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "%s%s"
		     "\r\n",
		     status, http_status_text(status), content_type, body_len, retry,
		     keep_alive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= size) {
		return -1;
	}
	return n;
}
