/*
 * fuzz-http-request.c: raw request bytes through the collector's HTTP layer
 * (http.c over http-parser, with its limits and pipelining) and, for every
 * complete POST /v1/batches, the body through the batch decoder and the COPY
 * row formatter the write path uses.
 *
 * The input is split at an offset taken from its first byte, so requests also
 * arrive in two reads, as they do from a socket.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "http.h"
#include "identity.h"
#include "writepath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
handle(const struct http_request *req)
{
	static const struct am_batch_limits lim = {
		.max_compressed = 1u << 20,
		.max_decompressed = 4u << 20,
		.max_events = 2000,
		.max_string = 256,
		.max_window_log = 23,
	};
	static const uint8_t key[32] = { 1, 2, 3 };
	am_batch *b = NULL;
	uint8_t *faults = NULL;
	struct am_batch_status st;
	struct writepath_buf rows;

	if (req->method != HTTP_REQ_POST || strncmp(req->url, "/v1/batches", 11) != 0) {
		return;
	}
	if (am_batch_decode_events(req->body, req->body_len, &lim, &b, &faults, &st) < 0) {
		return;
	}
	writepath_buf_init(&rows, 8u << 20);
	writepath_format_batch(&rows, 0, b->device_id, b->batch_id.data, b->batch_id.len,
			       b->n_events, b->spool_dropped_events);
	for (size_t i = 0; i < b->n_events; i++) {
		uint8_t mac[AM_IDENTITY_HMAC_LEN];
		const uint8_t *hm = NULL;
		if (faults != NULL && faults[i] != AM_EVENT_OK) {
			continue; /* the collector rejects it with its reason */
		}
		if (b->events[i]->user[0] != '\0' &&
		    identity_hmac(key, sizeof(key), b->events[i]->user, mac) == 0) {
			hm = mac;
		}
		if (writepath_format_event(&rows, 0, (int)i, b->events[i], hm, NULL, NULL) < 0) {
			break;
		}
	}
	writepath_buf_finish(&rows);
	free(faults);
	am_batch_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	size_t split, off = 0;
	const char *p = (const char *)data;

	if (size == 0) {
		return 0;
	}
	split = 1 + data[0] % (size < 64 ? size : 64);
	p++;
	size--;
	if (split > size) {
		split = size;
	}
	http_request_init(&req, 8192, 1u << 20);
	/* Two "reads"; each may hold several pipelined requests. */
	for (int part = 0; part < 2; part++) {
		size_t end = part == 0 ? split : size;
		while (off < end) {
			size_t used = 0;
			enum http_feed_result r = http_request_feed(&req, p + off, end - off, &used);
			off += used;
			if (r == HTTP_FEED_ERROR) {
				http_request_finish(&req);
				return 0;
			}
			if (r == HTTP_FEED_DONE) {
				handle(&req);
				if (!req.keep_alive) {
					http_request_finish(&req);
					return 0;
				}
				http_request_next(&req);
				continue;
			}
			if (used == 0) {
				break;
			}
		}
		off = end;
	}
	http_request_finish(&req);
	return 0;
}
