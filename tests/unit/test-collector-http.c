/* test-collector-http.c: HTTP framing: split reads, pipelining, limits, refusals. */
#include <string.h>

#include "http.h"
#include "test.h"

static enum http_feed_result
feed_all(struct http_request *r, const char *s, size_t *ret_used)
{
	return http_request_feed(r, s, strlen(s), ret_used);
}

TEST(byte_by_byte_post)
{
	static const char req[] = "POST /v1/batches HTTP/1.1\r\nHost: x\r\n"
				  "content-type: application/x-protobuf\r\n"
				  "Content-Encoding: zstd\r\nAuthorization: Bearer tok\r\n"
				  "Content-Length: 5\r\n\r\nhello";
	struct http_request r;
	enum http_feed_result res = HTTP_FEED_MORE;
	size_t used;

	http_request_init(&r, 4096, 1024);
	for (size_t i = 0; i < sizeof(req) - 1; i++) {
		res = http_request_feed(&r, req + i, 1, &used);
		ASSERT_EQ(used, 1);
		if (i < sizeof(req) - 2) {
			ASSERT_EQ(res, HTTP_FEED_MORE);
		}
	}
	ASSERT_EQ(res, HTTP_FEED_DONE);
	ASSERT_EQ(r.method, HTTP_REQ_POST);
	ASSERT_STR_EQ(r.url, "/v1/batches");
	ASSERT_STR_EQ(r.content_type, "application/x-protobuf");
	ASSERT_STR_EQ(r.content_encoding, "zstd");
	ASSERT_STR_EQ(r.authorization, "Bearer tok");
	ASSERT_EQ(r.body_len, 5);
	ASSERT(memcmp(r.body, "hello", 5) == 0);
	ASSERT(r.keep_alive);
	http_request_finish(&r);
}

TEST(pipelined)
{
	static const char two[] = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
	struct http_request r;
	size_t used, off;

	http_request_init(&r, 4096, 1024);
	ASSERT_EQ(feed_all(&r, two, &used), HTTP_FEED_DONE);
	ASSERT_STR_EQ(r.url, "/a");
	ASSERT(r.keep_alive);
	off = used;
	ASSERT_LT(off, sizeof(two) - 1);
	http_request_next(&r);
	ASSERT_EQ(http_request_feed(&r, two + off, sizeof(two) - 1 - off, &used), HTTP_FEED_DONE);
	ASSERT_EQ(off + used, sizeof(two) - 1);
	ASSERT_STR_EQ(r.url, "/b");
	ASSERT(!r.keep_alive);
	http_request_finish(&r);
}

static int
status_of(const char *req, size_t max_header, size_t max_body)
{
	struct http_request r;
	size_t used;
	int st = 0;

	http_request_init(&r, max_header, max_body);
	if (feed_all(&r, req, &used) == HTTP_FEED_ERROR) {
		st = r.error_status;
	}
	http_request_finish(&r);
	return st;
}

TEST(limits_and_refusals)
{
	char big[6000];

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memcpy(big + sizeof(big) - 5, "\r\n\r\n", 5);
	ASSERT_EQ(status_of(big, 4096, 1024), 431);
	ASSERT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 4096, 1024), 413);
	ASSERT_EQ(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 4096, 1024), 411);
	ASSERT_EQ(status_of("POST / HTTP/1.1\r\n\r\n", 4096, 1024), 411);
	ASSERT_EQ(status_of("GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", 4096,
			    1024),
		  400);
	ASSERT_EQ(status_of("BLAH\r\n\r\n", 4096, 1024), 400);
	ASSERT_EQ(status_of("POST / HTTP/1.1\r\nContent-Type: a\r\nContent-Type: b\r\n"
			    "Content-Length: 0\r\n\r\n",
			    4096, 1024),
		  400);
	ASSERT_EQ(status_of("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 4096,
			    1024),
		  400);
}

/* OTLP paths take chunked bodies (the OpenTelemetry JS SDK streams every
 * export), up to max_body; other paths still answer 411 (above). */
TEST(chunked_otlp)
{
	static const char ok[] = "POST /v1/metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "5\r\nhello\r\n3\r\n, x\r\n0\r\n\r\n";
	static const char over[] = "POST /v1/logs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n";
	struct http_request r;
	size_t used;

	http_request_init(&r, 4096, 1024);
	ASSERT_EQ(feed_all(&r, ok, &used), HTTP_FEED_DONE);
	ASSERT_EQ(r.body_len, 8);
	ASSERT(memcmp(r.body, "hello, x", 8) == 0);
	http_request_finish(&r);
	ASSERT_EQ(status_of(over, 4096, 10), 413);
	ASSERT_EQ(status_of("POST /v1/batches HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
			    4096, 1024),
		  411);
}

/* A large Content-Length costs nothing until the bytes arrive, then grows with them. */
TEST(body_grows_as_bytes_arrive)
{
	static const char head[] = "POST /v1/batches HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n";
	static char chunk[4096];
	struct http_request r;
	size_t used, sent = 0;
	enum http_feed_result res = HTTP_FEED_MORE;

	http_request_init(&r, 4096, 4 << 20);
	ASSERT_EQ(feed_all(&r, head, &used), HTTP_FEED_MORE);
	ASSERT(r.headers_done);
	ASSERT_EQ(r.body_expected, 1000000);
	ASSERT_NULL(r.body);
	ASSERT_EQ(r.body_cap, 0);
	memset(chunk, 'z', sizeof(chunk));
	ASSERT_EQ(http_request_feed(&r, chunk, 100, &used), HTTP_FEED_MORE);
	ASSERT_EQ(r.body_cap, HTTP_BODY_FIRST);
	sent = 100;
	while (sent < 1000000) {
		size_t n = 1000000 - sent < sizeof(chunk) ? 1000000 - sent : sizeof(chunk);
		res = http_request_feed(&r, chunk, n, &used);
		ASSERT_EQ(used, n);
		ASSERT_LE(r.body_cap, 2 * (sent + n) + HTTP_BODY_FIRST);
		sent += n;
	}
	ASSERT_EQ(res, HTTP_FEED_DONE);
	ASSERT_EQ(r.body_len, 1000000);
	ASSERT_EQ(r.body_cap, 1000000); /* capped at Content-Length, never past it */
	ASSERT_EQ(r.body[999999], 'z');
	http_request_next(&r);
	ASSERT_NULL(r.body);
	ASSERT_EQ(r.body_cap, 0);
	http_request_finish(&r);
}

TEST(response_format)
{
	char buf[256];
	int n = http_format_response(buf, sizeof(buf), 503, "text/plain", 4, 2, false);

	ASSERT_GT(n, 0);
	ASSERT_STR_EQ(buf, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
			   "Content-Length: 4\r\nRetry-After: 2\r\nConnection: close\r\n\r\n");
	ASSERT_EQ(http_format_response(buf, 10, 200, "text/plain", 4, 0, true), -1);
}

int
main(void)
{
	RUN(byte_by_byte_post);
	RUN(pipelined);
	RUN(limits_and_refusals);
	RUN(chunked_otlp);
	RUN(body_grows_as_bytes_arrive);
	RUN(response_format);
	return 0;
}
