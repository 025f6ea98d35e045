/* fetch.c: one verified HTTPS GET with libcurl (see fetch.h). */
#define _GNU_SOURCE
#include "fetch.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "am_config.h"

struct sink {
	struct fetch_response *resp;
	size_t max;
	bool too_big;
};

static size_t
fetch_write_cb(char *data, size_t size, size_t n, void *userdata)
{
	struct sink *s = userdata;
	struct fetch_response *r = s->resp;
	size_t len = size * n;
	char *body;

	if (len > s->max - r->len) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	body = realloc(r->body, r->len + len + 1);
	if (body == NULL) {
		return 0;
	}
	memcpy(body + r->len, data, len);
	r->body = body;
	r->len += len;
	body[r->len] = '\0';
	return len;
}

/* Retry-After: delta-seconds only (an HTTP date reads as absent). */
static size_t
fetch_header_cb(char *data, size_t size, size_t n, void *userdata)
{
	static const char name[] = "retry-after:";
	struct sink *s = userdata;
	size_t len = size * n;

	if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		char buf[32], *end;
		size_t vlen = len - (sizeof(name) - 1);
		long v;

		if (vlen >= sizeof(buf)) {
			return len;
		}
		memcpy(buf, data + sizeof(name) - 1, vlen);
		buf[vlen] = '\0';
		v = strtol(buf, &end, 10);
		while (isspace((unsigned char)*end)) {
			end++;
		}
		if (end != buf && *end == '\0' && v >= 0 && v <= 86400) {
			s->resp->retry_after = v;
		}
	}
	return len;
}

static void
headers_free(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p != NULL; p = p->next) {
		explicit_bzero(p->data, strlen(p->data));
	}
	curl_slist_free_all(h);
}

int
fetch_get(const struct fetch_request *req, struct fetch_response *ret, char *err, size_t err_len)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct sink sink = { ret, req->max_body, false };
	struct curl_slist *h = NULL;
	CURLcode c = CURLE_OK;
	CURL *e;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	ret->retry_after = -1;
	e = curl_easy_init();
	if (e == NULL) {
		snprintf(err, err_len, "could not start libcurl");
		return -ENOMEM;
	}
	for (size_t i = 0; i < req->n_headers; i++) {
		struct curl_slist *h2 = curl_slist_append(h, req->headers[i]);
		if (h2 == NULL) {
			headers_free(h);
			curl_easy_cleanup(e);
			snprintf(err, err_len, "out of memory");
			return -ENOMEM;
		}
		h = h2;
	}
	if ((c = curl_easy_setopt(e, CURLOPT_URL, req->url)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https")) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L)) != CURLE_OK ||
	    (req->ca_file != NULL &&
	     (c = curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file)) != CURLE_OK) ||
	    (c = curl_easy_setopt(e, CURLOPT_HTTPHEADER, h)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_USERAGENT, "aimeterctl/" AM_VERSION)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 120000L)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "")) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_cb)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header_cb)) != CURLE_OK ||
	    (c = curl_easy_setopt(e, CURLOPT_HEADERDATA, &sink)) != CURLE_OK) {
		snprintf(err, err_len, "could not set up libcurl: %s", curl_easy_strerror(c));
		r = -EINVAL;
		goto out;
	}
	c = curl_easy_perform(e);
	if (sink.too_big) {
		snprintf(err, err_len, "the answer is larger than %zu bytes", req->max_body);
		r = -EFBIG;
	} else if (c != CURLE_OK) {
		snprintf(err, err_len, "%s", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(c));
		r = c == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	} else {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &ret->status);
		if (ret->body == NULL && (ret->body = calloc(1, 1)) == NULL) {
			snprintf(err, err_len, "out of memory");
			r = -ENOMEM;
		}
	}
out:
	curl_easy_cleanup(e);
	headers_free(h);
	return r;
}

void
fetch_response_finish(struct fetch_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int
fetch_escape(const char *s, char *ret, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
		if (n + (plain ? 1 : 3) >= size) {
			return -ENAMETOOLONG;
		}
		if (plain) {
			ret[n++] = (char)c;
		} else {
			ret[n++] = '%';
			ret[n++] = hex[c >> 4];
			ret[n++] = hex[c & 15];
		}
	}
	ret[n] = '\0';
	return 0;
}
