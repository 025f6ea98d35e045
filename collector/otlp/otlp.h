/*
 * otlp.h: POST /v1/logs, /v1/metrics and /v1/traces (OTLP/HTTP,
 * docs/otlp.md): authenticate the bearer token against
 * aimeter.otlp_tokens, then decode (protobuf or JSON, maybe gzip) on
 * libuv's threadpool, then write the model calls found through the same
 * write transaction as agent batches (writetx.h, aimeter.ingest_staged()),
 * and answer as the OTLP/HTTP specification says, only after COMMIT.
 *
 * As for batches, nothing is decompressed or parsed before the token is
 * known, an address sending unknown tokens is slowed down, and the number
 * of requests in progress and decoding at once are capped.
 */
#ifndef AM_COLLECTOR_OTLP_H
#define AM_COLLECTOR_OTLP_H

#include <stdbool.h>
#include <uv.h>

#include "db.h"
#include "decode.h"
#include "ratelimit.h"
#include "request.h"

struct config;
struct ingest;
struct otlp_req;

#define OTLP_MAX_PENDING 64     /* requests past the handler, not yet answered */
#define OTLP_DECODE_WORKERS 2   /* decodes on the threadpool at once */

struct otlp;

/* What a route's owner points at: the module and the signal of the path. */
struct otlp_endpoint {
	struct otlp *otlp;
	enum otlp_signal signal;
};

struct otlp {
	uv_loop_t *loop;
	const struct config *cfg;    /* borrowed; replaced by otlp_set_config */
	struct db *db;               /* borrowed */
	const struct ingest *ingest; /* borrowed: its person key, the agents' HMAC key */
	struct otlp_endpoint endpoints[OTLP_SIGNAL_MAX];
	struct otlp_req *head, *tail;               /* waiting for a database connection */
	struct otlp_req *decode_head, *decode_tail; /* waiting for a decode worker */
	unsigned decoding, pending, in_flight;
	bool stopping, closed;
	struct ratelimit authfail_limit;
	void (*idle_cb)(void *arg);
	void *idle_arg;
	uint64_t records, calls_inserted, calls_duplicate, rejected; /* since start */
};

/*
 * otlp_init(o, loop, cfg, db, ingest, idle_cb, idle_arg): the module, all
 * borrowed; idle_cb runs whenever a request ends (shutdown checks otlp_idle).
 */
void otlp_init(struct otlp *o, uv_loop_t *loop, const struct config *cfg, struct db *db,
	       const struct ingest *ingest, void (*idle_cb)(void *arg), void *idle_arg);

/* otlp_set_config(o, cfg): limits from cfg (borrowed) from now on. */
void otlp_set_config(struct otlp *o, const struct config *cfg);

/* otlp_submit(endpoint, req, reply, reply_arg): the handler_fn of the three paths. */
void *otlp_submit(void *endpoint, const struct request *req, reply_fn reply, void *reply_arg);

/* otlp_cancel(handle): the client went away (a handler_cancel_fn). */
void otlp_cancel(void *handle);

/* otlp_next_job(o): the next database job, or NULL (after the batches' pull). */
struct db_job *otlp_next_job(struct otlp *o);

/* otlp_stop(o): shutting down: new requests get 503. */
void otlp_stop(struct otlp *o);

/* otlp_idle(o): nothing waiting, decoding or in the database. */
bool otlp_idle(const struct otlp *o);

/* otlp_fail_queued(o): the database is closing: answer what waits 503. */
void otlp_fail_queued(struct otlp *o);

/*
 * otlp_response(signal, enc, rejected, message, ret_buf, ret_len): the
 * Export*ServiceResponse body, with partial_success when rejected > 0 (or
 * a message is given). *ret_buf is malloc'ed. Returns 0 or -ENOMEM.
 */
int otlp_response(enum otlp_signal signal, enum otlp_encoding enc, uint64_t rejected,
		  const char *message, uint8_t **ret_buf, size_t *ret_len);

/* otlp_status(enc, code, message, ret_buf, ret_len): a google.rpc.Status failure body. */
int otlp_status(enum otlp_encoding enc, int code, const char *message, uint8_t **ret_buf,
		size_t *ret_len);

#endif
