/*
 * ingest.c: the module's setup, the db pool's callbacks, cancellation and
 * shutdown; see ingest.h. Items and their queue are in item.c, batches in
 * batches.c and group.c, enrollment in enroll.c.
 */
#include "ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "item.h"
#include "log.h"
#include "metrics.h"

void
ingest_cancel(void *handle)
{
	struct ingest_item *item = handle;
	struct ingest *ing = item->ing;

	item->reply = NULL;
	if (item->decode_waiting) {
		decode_unlink(ing, item);
		item_batch_gone(ing);
		item_free(item);
		item_done(ing);
		return;
	}
	/* On a decode worker: decode_after_cb sees reply == NULL and drops it. */
	if (item->queued) {
		/* Not started yet: drop it; the client will retry. */
		item_unlink(ing, item);
		if (IS_BATCH(item)) {
			item_batch_gone(ing);
		}
		item_free(item);
		item_done(ing);
	}
}

void
ingest_device_revoked(void *owner, const char *device_id)
{
	struct ingest *ing = owner;
	unsigned purged = tokens_revoke(&ing->tokens, device_id);

	/* Every pool connection hears the NOTIFY: say it once, where it counted. */
	if (purged > 0) {
		log_info("device %.40s revoked: %u cached token%s purged", device_id, purged,
			 purged == 1 ? "" : "s");
	} else {
		log_debug("device %.40s revoked: no cached token", device_id);
	}
}

/* ---- the pull callback ------------------------------------------------------ */

struct db_job *
ingest_next_job(void *owner)
{
	struct ingest *ing = owner;

	if (fold_due(ing)) {
		return fold_build(ing);
	}
	while (ing->head != NULL) {
		struct ingest_item *item = ing->head;
		struct db_job *job;

		if (item->kind != ITEM_BATCH) {
			item_unlink(ing, item);
			ing->in_flight++;
			return &item->job;
		}
		job = group_build(ing);
		if (job != NULL) {
			return job;
		}
		if (ing->head == item) {
			/* Out of memory before taking a batch: leave the queue to the
			 * next pull rather than spin here with the loop blocked. */
			return NULL;
		}
	}
	return NULL;
}

bool
ingest_idle(const struct ingest *ing)
{
	return ing->head == NULL && ing->in_flight == 0 && ing->decode_head == NULL &&
	       ing->decoding == 0 && ing->await_head == NULL;
}

void
ingest_fail_queued(struct ingest *ing, int status)
{
	ing->closed = true;
	/* Committed: their acks say so; the rollups converge at the next fold. */
	fold_flush(ing);
	/* Decodes on a worker finish by themselves (decode_after_cb). */
	while (ing->decode_head != NULL) {
		struct ingest_item *item = ing->decode_head;
		decode_unlink(ing, item);
		item_reply_text(item, status, "shutting down, retry later", RETRY_AFTER_DB);
		item_batch_gone(ing);
		item_free(item);
	}
	while (ing->head != NULL) {
		struct ingest_item *item = ing->head;
		item_unlink(ing, item);
		item_reply_text(item, status, "database unavailable, retry later", RETRY_AFTER_DB);
		if (IS_BATCH(item)) {
			item_batch_gone(ing);
		}
		item_free(item);
	}
}

void
ingest_init(struct ingest *ing, uv_loop_t *loop, const struct config *cfg, struct db *db,
	    struct metrics *metrics, ingest_idle_cb idle_cb, void *idle_arg)
{
	memset(ing, 0, sizeof(*ing));
	ing->loop = loop;
	ing->cfg = cfg;
	ing->db = db;
	ing->metrics = metrics;
	ing->idle_cb = idle_cb;
	ing->idle_arg = idle_arg;
	ing->max_schema = AM_SCHEMA_VERSION_MAX;
	const char *cap = getenv("AIMETER_TEST_MAX_SCHEMA");
	if (cap != NULL && strcmp(cap, "1") == 0) {
		ing->max_schema = AM_SCHEMA_VERSION;
	}
	ratelimit_init(&ing->enroll_limit, INGEST_ENROLL_BURST, INGEST_ENROLL_PER_SEC);
	ratelimit_init(&ing->authfail_limit, INGEST_AUTHFAIL_BURST, INGEST_AUTHFAIL_PER_SEC);
}

void
ingest_set_config(struct ingest *ing, const struct config *cfg)
{
	ing->cfg = cfg;
}

void
ingest_stop(struct ingest *ing)
{
	ing->stopping = true;
}
