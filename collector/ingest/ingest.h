/*
 * ingest.h: POST /v1/batches and POST /v1/enroll: validate, authenticate the
 * device, stage the rows and run the database's write path
 * (docs/write-path.md), then acknowledge only after COMMIT.
 *
 * A batch costs nothing before its device is known: the bearer token is
 * looked up (cache, then database) first, and an unknown token gets 401 with
 * the body untouched. Only then is the body decoded, on libuv's threadpool
 * (at most INGEST_DECODE_WORKERS at once, the rest wait in a queue), so a
 * large or hostile batch never stalls the loop for other clients.
 *
 * Database work waits in one queue; a free database connection pulls from
 * it, taking several small queued batches at once so they share a
 * transaction.
 */
#ifndef AM_COLLECTOR_INGEST_H
#define AM_COLLECTOR_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "batch.h"
#include "db.h"
#include "identity.h"
#include "ratelimit.h"
#include "request.h"
#include "tokens.h"

struct config;
struct group;
struct ingest_item;
struct metrics;

#define INGEST_REVOKE_CHANNEL "aimeter_device_revoked"
/* Decode jobs on the threadpool at once; each may hold max_decompressed. */
#define INGEST_DECODE_WORKERS 2
/* /v1/enroll attempts per address. */
#define INGEST_ENROLL_BURST 20
#define INGEST_ENROLL_PER_SEC 2
/* Unknown device tokens: past these, an address's uncached tokens get 429
 * without a database lookup, so a flood of made-up tokens cannot fill the
 * pending slots that enrolled devices need. */
#define INGEST_AUTHFAIL_BURST 20
#define INGEST_AUTHFAIL_PER_SEC 1
#define INGEST_SECRET_MIN_BITS 128

/* ingest_idle_cb(arg): work finished; see ingest_idle(). */
typedef void (*ingest_idle_cb)(void *arg);

struct ingest {
	uv_loop_t *loop;
	const struct config *cfg; /* borrowed; replaced by ingest_set_config */
	struct db *db;            /* borrowed; its pool pulls from ingest_next_job */
	struct metrics *metrics;  /* borrowed */
	ingest_idle_cb idle_cb;
	void *idle_arg;
	bool stopping; /* ingest_stop: new work gets 503 */
	bool closed;   /* ingest_fail_queued: the database is closing */
	struct ingest_item *head, *tail; /* waiting for a connection */
	struct ingest_item *decode_head, *decode_tail; /* waiting for a decode worker */
	/* the highest schema accepted and stated in acks: AM_SCHEMA_VERSION_MAX, or
	 * AIMETER_TEST_MAX_SCHEMA=1, which makes it answer as a collector from before
	 * action records (409 to schema 2, acks without max_schema_version) for tests */
	uint32_t max_schema;
	unsigned decoding; /* decode jobs on the threadpool */
	unsigned queued;   /* items in the queue */
	unsigned pending;  /* batches queued or in a transaction */
	unsigned in_flight;/* jobs on connections */
	/* The rollups' fold (fold.c): groups committed with it deferred wait
	 * here for their acks; one fold job at a time takes them all. */
	struct group *await_head, *await_tail;
	unsigned awaiting;         /* transactions waiting */
	uint64_t await_since_ns;   /* when the oldest of them committed */
	struct group *folding;     /* taken by the fold job in flight */
	bool fold_running;
	struct db_cmd fold_cmd;
	struct db_job fold_job;
	uint8_t person_key[256];
	size_t person_key_len;
	uint8_t secret_hash[32];
	int secret_bits; /* its strength, as the database records it */
	bool have_secret;
	struct tokens tokens;
	struct ratelimit enroll_limit;
	struct ratelimit authfail_limit;
};

/*
 * ingest_init(ing, loop, cfg, db, metrics, idle_cb, idle_arg): an empty
 * queue; all borrowed. idle_cb runs with idle_arg whenever a piece of work
 * ends, so the owner can check ingest_idle() during shutdown.
 */
void ingest_init(struct ingest *ing, uv_loop_t *loop, const struct config *cfg, struct db *db,
		 struct metrics *metrics, ingest_idle_cb idle_cb, void *idle_arg);

/* ingest_set_config(ing, cfg): limits from cfg (borrowed) from now on. */
void ingest_set_config(struct ingest *ing, const struct config *cfg);

/* ingest_stop(ing): shutting down: new batches and enrollments get 503. */
void ingest_stop(struct ingest *ing);

/*
 * ingest_load_secrets(ing, cfg): read the person key and the enrollment
 * secret named by cfg, refusing files group or others can read. Logs and
 * returns -1 on failure, leaving ing unchanged; 0 on success.
 */
int ingest_load_secrets(struct ingest *ing, const struct config *cfg);

/*
 * ingest_submit(ing, req, reply, reply_arg): a handler_fn for POST
 * /v1/batches (ing is the struct ingest). Answers at once on a client
 * error (returns NULL); otherwise queues the batch, answers after COMMIT
 * and returns the handle for ingest_cancel.
 */
void *ingest_submit(void *ing, const struct request *req, reply_fn reply, void *reply_arg);

/* ingest_enroll(ing, req, reply, reply_arg): the handler_fn for POST /v1/enroll. */
void *ingest_enroll(void *ing, const struct request *req, reply_fn reply, void *reply_arg);

/* ingest_cancel(handle): the client went away; drop the reply (a handler_cancel_fn). */
void ingest_cancel(void *handle);

/*
 * ingest_register_secret(ing): queue the registration of the [enrollment]
 * secret_file's hash in aimeter.enrollment_secrets (best effort: a role
 * without the privilege logs a warning), so the database, the one judge of
 * enrollment secrets, accepts it next to the secrets stored there.
 */
void ingest_register_secret(struct ingest *ing);

/* ingest_next_job(owner): the db pool's pull callback (owner is the ingest). */
struct db_job *ingest_next_job(void *owner);

/*
 * ingest_device_revoked(owner, device_id): the db pool's notify callback for
 * INGEST_REVOKE_CHANNEL (owner is the ingest): forget every cached token of
 * device_id, so its next batch is checked against the database.
 */
void ingest_device_revoked(void *owner, const char *device_id);

/* ingest_idle(ing): nothing queued, decoding or in the database. */
bool ingest_idle(const struct ingest *ing);

/*
 * ingest_fail_queued(ing, status): answer every queued item (shutdown);
 * the database is closing, so batches still decoding are answered 503.
 */
void ingest_fail_queued(struct ingest *ing, int status);

struct ingest_reject {
	uint32_t ord;
	char reason[32];
};

struct writepath_buf;

/*
 * ingest_format_events(key, key_len, device_team, batch, faults, batch_idx, out):
 * Append the am_stage COPY rows of batch's events to out (writepath.h does
 * the escaping), each user identity replaced by its HMAC under key, and
 * device_team (the enrollment secret's team; NULL or "" for none) as the
 * team hint of events that carry none. faults (NULL: none) holds the
 * decoder's enum am_event_fault per event; a faulty event is staged with its
 * reason (the reject_reason column) so ingest_staged stores and reports it.
 * Also the fuzz target's last stage. Returns 0 or -ENOBUFS.
 */
int ingest_format_events(const uint8_t *key, size_t key_len, const char *device_team,
			 const am_batch *batch, const uint8_t *faults, int batch_idx,
			 struct writepath_buf *out);

/*
 * ingest_format_requests(batch, faults, batch_idx, out): append the
 * am_stage_request COPY rows of batch's events that carry a request id
 * (schema version 3, or the OTLP receiver's calls) and no fault, keyed as
 * ingest_format_events keys their am_stage rows. Returns 0 or -ENOBUFS.
 */
int ingest_format_requests(const am_batch *batch, const uint8_t *faults, int batch_idx,
			   struct writepath_buf *out);

#endif
