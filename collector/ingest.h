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

#include "batch.h"
#include "db.h"
#include "identity.h"

struct collector;
struct conn;
struct config;
struct ingest_item;

#define INGEST_CACHE_SLOTS 512
/* Revocation purges the cache at once (NOTIFY); this caps an entry's life
 * when a notification is lost (a dropped connection). */
#define INGEST_CACHE_TTL_MAX_MS 60000
#define INGEST_REVOKE_CHANNEL "aimeter_device_revoked"
/* Decode jobs on the threadpool at once; each may hold max_decompressed. */
#define INGEST_DECODE_WORKERS 2
/* Per peer address token buckets, in bounded tables. */
#define INGEST_PEER_SLOTS 256
/* /v1/enroll attempts. */
#define INGEST_ENROLL_BURST 20
#define INGEST_ENROLL_PER_SEC 2
/* Unknown device tokens: past these, an address's uncached tokens get 429
 * without a database lookup, so a flood of made-up tokens cannot fill the
 * pending slots that enrolled devices need. */
#define INGEST_AUTHFAIL_BURST 20
#define INGEST_AUTHFAIL_PER_SEC 1
#define INGEST_SECRET_MIN_BITS 128

struct ingest_cache_entry {
	uint8_t token_hash[32];
	char device_id[40];
	char team_hint[128]; /* of the enrollment secret (aimeterctl enroll-token --team) */
	uint64_t expires_ns; /* 0: empty */
};

struct ingest_peer_bucket {
	char peer[64]; /* "" : free */
	double tokens;
	uint64_t last_ns;
};

struct ingest {
	struct collector *col;
	struct ingest_item *head, *tail; /* waiting for a connection */
	struct ingest_item *decode_head, *decode_tail; /* waiting for a decode worker */
	unsigned decoding; /* decode jobs on the threadpool */
	unsigned queued;   /* items in the queue */
	unsigned pending;  /* batches queued or in a transaction */
	unsigned in_flight;/* jobs on connections */
	uint8_t person_key[256];
	size_t person_key_len;
	uint8_t secret_hash[32];
	int secret_bits; /* its strength, as the database records it */
	bool have_secret;
	struct ingest_cache_entry cache[INGEST_CACHE_SLOTS];
	struct ingest_peer_bucket enroll_buckets[INGEST_PEER_SLOTS];
	struct ingest_peer_bucket authfail_buckets[INGEST_PEER_SLOTS];
};

/* ingest_init(ing, col): an empty queue. */
void ingest_init(struct ingest *ing, struct collector *col);

/*
 * ingest_load_secrets(ing, cfg): read the person key and the enrollment
 * secret named by cfg, refusing files group or others can read. Logs and
 * returns -1 on failure, leaving ing unchanged; 0 on success.
 */
int ingest_load_secrets(struct ingest *ing, const struct config *cfg);

/*
 * ingest_batch(ing, c): handle the complete POST /v1/batches request held
 * in c->req. Answers at once on a client error, otherwise queues the batch
 * and answers after COMMIT.
 */
void ingest_batch(struct ingest *ing, struct conn *c);

/* ingest_enroll(ing, c): handle POST /v1/enroll in c->req. */
void ingest_enroll(struct ingest *ing, struct conn *c);

/*
 * ingest_register_secret(ing): queue the registration of the [enrollment]
 * secret_file's hash in aimeter.enrollment_secrets (best effort: a role
 * without the privilege logs a warning), so the database, the one judge of
 * enrollment secrets, accepts it next to the secrets stored there.
 */
void ingest_register_secret(struct ingest *ing);

/* ingest_detach(item): the client of item went away; drop the reply. */
void ingest_detach(struct ingest_item *item);

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

/* ingest_fail_queued(ing, status): answer every queued item (shutdown). */
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

#endif
