/*
 * http.h: HTTP/1.1 request framing over Debian's http-parser, with our own
 * limits. Pure: no I/O, no libuv, so the fuzz target drives it directly.
 *
 * Only Content-Length bodies are accepted (Transfer-Encoding is refused,
 * which also closes request-smuggling doors); upgrades are refused. The
 * parser pauses after each complete request so responses stay in order.
 */
#ifndef AM_COLLECTOR_HTTP_H
#define AM_COLLECTOR_HTTP_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_URL_MAX 256
#define HTTP_VALUE_MAX 512
/* A body buffer starts at this size and doubles as bytes arrive (see on_body). */
#define HTTP_BODY_FIRST 16384

enum http_method_kind { HTTP_REQ_GET, HTTP_REQ_POST, HTTP_REQ_OTHER, HTTP_REQ_MAX };

enum http_feed_result {
	HTTP_FEED_MORE,  /* everything consumed, request not complete yet */
	HTTP_FEED_DONE,  /* one request complete; *ret_consumed bytes used */
	HTTP_FEED_ERROR, /* bad request: reply error_status and close */
};

struct http_request {
	http_parser parser;
	size_t max_header, max_body;
	/* current request */
	bool started, headers_done, complete;
	size_t header_bytes;
	enum http_method_kind method;
	char url[HTTP_URL_MAX];
	size_t url_len;
	char field[64];
	size_t field_len;
	bool in_value;
	int cur; /* which header the current value belongs to */
	char content_type[HTTP_VALUE_MAX];
	char content_encoding[HTTP_VALUE_MAX];
	char authorization[HTTP_VALUE_MAX];
	size_t value_len[3];
	bool has_content_length;
	bool chunked; /* an OTLP path's chunked body: up to max_body, no Content-Length */
	uint8_t *body; /* malloc'd, grown as bytes arrive up to Content-Length; owned */
	size_t body_len, body_cap, body_expected;
	bool keep_alive;
	/* error */
	int error_status;
	const char *error_reason;
};

/* http_request_init(r, max_header, max_body): start a connection's parser. */
void http_request_init(struct http_request *r, size_t max_header, size_t max_body);

/* http_request_finish(r): free the body; r may be reused after init. */
void http_request_finish(struct http_request *r);

/* http_request_next(r): forget the completed request and resume parsing. */
void http_request_next(struct http_request *r);

/*
 * http_request_feed(r, data, len, ret_consumed):
 * Parse up to len bytes. Returns HTTP_FEED_DONE when a request is complete
 * (the caller handles it, then calls http_request_next and feeds the rest),
 * HTTP_FEED_MORE, or HTTP_FEED_ERROR with error_status set.
 */
enum http_feed_result http_request_feed(struct http_request *r, const char *data, size_t len,
					size_t *ret_consumed);

/* http_status_text(status): the reason phrase, e.g. "Not Found". */
const char *http_status_text(int status);

/*
 * http_format_response(buf, size, status, content_type, body_len,
 * retry_after, keep_alive): write the status line and headers (not the body).
 * retry_after 0: no Retry-After. Returns the length, or -1 if it did not fit.
 */
int http_format_response(char *buf, size_t size, int status, const char *content_type,
			 size_t body_len, unsigned retry_after, bool keep_alive);

#endif
