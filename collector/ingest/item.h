/*
 * item.h: inside ingest/: one piece of work (a batch, an enrollment, the
 * secret's registration) and the queue it waits in. Not for other modules.
 */
#ifndef AM_COLLECTOR_INGEST_ITEM_H
#define AM_COLLECTOR_INGEST_ITEM_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ingest.h"
#include "writepath.h"
#include "writetx.h"

#define RETRY_AFTER_DB 2
#define RETRY_AFTER_BUSY 1
#define GROUP_MAX 64

/*
 * A batch goes AUTH (token lookup, when not cached) -> DECODE (waiting for
 * or on a decode worker) -> BATCH (waiting for or in a write transaction).
 */
enum item_kind { ITEM_AUTH, ITEM_DECODE, ITEM_BATCH, ITEM_ENROLL, ITEM_REGISTER, ITEM_KIND_MAX };

/* Batches count against [database] max_pending_batches; other work does not. */
#define IS_BATCH(item)                                                                            \
	((item)->kind == ITEM_AUTH || (item)->kind == ITEM_DECODE || (item)->kind == ITEM_BATCH)

struct ingest_item {
	struct ingest_item *next;
	struct ingest *ing;
	enum item_kind kind;
	bool queued;
	reply_fn reply; /* NULL once answered or cancelled */
	void *reply_arg;
	uint64_t start_ns;
	/* batches */
	uint8_t *body; /* the compressed request body, copied; freed once decoded */
	size_t body_len;
	struct am_batch_limits limits;
	uv_work_t work;        /* the decode job; the worker touches only the fields above */
	bool decode_waiting;   /* in ing->decode_head's list */
	int decode_rc;
	struct am_batch_status decode_status;
	uint8_t *faults;       /* per event, from the decoder; NULL: none */
	am_batch *batch;
	uint8_t token_hash[32];
	char device_id[40];
	char device_team[128]; /* for events without a team hint; "" for none */
	uint32_t inserted, duplicates;
	bool identities_noted;
	struct ingest_reject *rejects; /* room for n_events */
	size_t n_rejects;
	/* single-command jobs: device lookup and enrollment */
	struct db_job job;
	struct db_cmd cmd;
	const char *values[5];
	int lengths[5];
	int formats[5];
	/* enrollment */
	char token[65];
	uint8_t secret_hash[32];
	uint8_t new_token_hash[32];
	Aimeter__V1__EnrollRequest *enroll;
	char peer[64]; /* for the log */
	char bits[16]; /* the secret's strength, as text for libpq */
};

/* Several batches written in one transaction. */
struct group {
	struct ingest *ing;
	struct writetx tx;
	struct ingest_item *items[GROUP_MAX];
	unsigned n;
	struct writepath_buf batches, events;
	struct writepath_buf requests; /* request ids: one call counted once */
	char *actions_json;           /* the JSON rows of aimeter.ingest_actions() */
	const char *actions_value[1];
	struct db_cmd actions_cmd;    /* run just before COMMIT */
	bool deferred;      /* committed without the fold: acked after one */
	struct group *next; /* in ing->await_fold */
};

/* group_finish(g): acknowledge g's committed batches and free g. */
void group_finish(struct group *g);

/*
 * fold_due(ing): whether committed batches wait for a fold that should run
 * now: nothing else queued, WRITEPATH_FOLD_EVERY_BATCHES of them, or the
 * oldest waited WRITEPATH_FOLD_EVERY_MS.
 */
bool fold_due(const struct ingest *ing);

/* fold_build(ing): the fold job for every group waiting, or NULL. */
struct db_job *fold_build(struct ingest *ing);

/* fold_await(ing, g): g committed deferred; its acks wait for the next fold. */
void fold_await(struct ingest *ing, struct group *g);

/* fold_flush(ing): acknowledge every waiting group now (shutting down). */
void fold_flush(struct ingest *ing);

/* item_free(item): free item and what it owns; accepts NULL. */
void item_free(struct ingest_item *item);

/* item_reply(item, ...): answer item's client once, if it is still there. */
void item_reply(struct ingest_item *item, int status, const char *ctype, const void *body,
		size_t len, unsigned retry_after);

/* item_reply_text(item, status, msg, retry_after): a one-line text answer. */
void item_reply_text(struct ingest_item *item, int status, const char *msg,
		     unsigned retry_after);

/* item_reply_now(reply, reply_arg, status, msg, retry_after): answer before an item exists. */
void item_reply_now(reply_fn reply, void *reply_arg, int status, const char *msg,
		    unsigned retry_after);

/* item_push(ing, item): queue item for a database connection. */
void item_push(struct ingest *ing, struct ingest_item *item);

/* item_unlink(ing, item): take item out of the queue; nothing if not there. */
void item_unlink(struct ingest *ing, struct ingest_item *item);

/* item_batch_gone(ing): one batch less pending. */
void item_batch_gone(struct ingest *ing);

/* item_pending_changed(ing): publish ing->pending. */
void item_pending_changed(struct ingest *ing);

/* item_done(ing): a piece of work ended; tell the owner. */
void item_done(struct ingest *ing);

/* item_now_ns(): the monotonic clock. */
uint64_t item_now_ns(void);

/*
 * decode_start(ing, item): decode item's body on the threadpool, or wait for
 * a worker. Returns 0, or a negative errno after answering and freeing item.
 */
int decode_start(struct ingest *ing, struct ingest_item *item);

/* decode_unlink(ing, item): take item out of the decode wait list. */
void decode_unlink(struct ingest *ing, struct ingest_item *item);

/*
 * group_take(ing, items, max, max_events): move up to max queued batches
 * (ITEM_BATCH, in queue order) into items, stopping short of max_events
 * events unless items is still empty; other work stays queued. Returns the
 * number moved.
 */
unsigned group_take(struct ingest *ing, struct ingest_item **items, unsigned max,
		    size_t max_events);

/* group_build(ing): one write transaction from the queued batches, or NULL. */
struct db_job *group_build(struct ingest *ing);

#endif
