/*
 * batches.c: POST /v1/batches up to the write queue: request checks, the
 * device token (cache, then database), decoding on the threadpool; see
 * ingest.h. group.c writes the decoded batches.
 */
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "ingest.h"
#include "item.h"
#include "log.h"
#include "macros.h"
#include "metrics.h"

#define INGEST_AUTHFAIL_RETRY_S 10

static const char auth_sql[] = "SELECT device_id::text, coalesce(team_hint, '')"
			       " FROM aimeter.devices WHERE token_hash = $1 AND revoked_at IS NULL";

/* ---- decoding, on the threadpool ------------------------------------------- */

void
decode_unlink(struct ingest *ing, struct ingest_item *item)
{
	struct ingest_item **pp = &ing->decode_head, *prev = NULL;

	while (*pp != NULL && *pp != item) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL) {
		return;
	}
	*pp = item->next;
	if (ing->decode_tail == item) {
		ing->decode_tail = prev;
	}
	item->next = NULL;
	item->decode_waiting = false;
}

/* Worker thread: only the item's body, limits and decode results. */
static void
decode_work_cb(uv_work_t *w)
{
	struct ingest_item *item = container_of(w, struct ingest_item, work);

	item->decode_rc = am_batch_decode_events(item->body, item->body_len, &item->limits,
						 &item->batch, &item->faults,
						 &item->decode_status);
	free(item->body);
	item->body = NULL;
}

static int
decode_status_code(enum am_batch_error e)
{
	switch (e) {
	case AM_BATCH_SCHEMA_VERSION:
		return 409;
	case AM_BATCH_COMPRESSED_TOO_LARGE:
	case AM_BATCH_DECOMPRESSED_TOO_LARGE:
	case AM_BATCH_TOO_MANY_EVENTS:
	case AM_BATCH_TOO_MANY_FIELDS:
	case AM_BATCH_EVENT_TOO_LARGE:
		return 413;
	case AM_BATCH_NOMEM:
		return 503;
	default:
		return 400;
	}
}

/* Start waiting decodes while workers are free. */
static void
decode_next(struct ingest *ing)
{
	while (ing->decode_head != NULL && ing->decoding < INGEST_DECODE_WORKERS) {
		struct ingest_item *item = ing->decode_head;

		decode_unlink(ing, item);
		(void)decode_start(ing, item); /* a failure answered the client */
	}
}

static void
decode_after_cb(uv_work_t *w, int status)
{
	struct ingest_item *item = container_of(w, struct ingest_item, work);
	struct ingest *ing = item->ing;
	struct metrics *m = ing->metrics;

	ing->decoding--;
	decode_next(ing);
	if (item->reply == NULL || status < 0) {
		goto drop; /* the client went away; it retries */
	}
	if (ing->closed) {
		item_reply_text(item, 503, "shutting down, retry later", RETRY_AFTER_DB);
		goto drop;
	}
	if (item->decode_rc < 0) {
		m->batches_refused++;
		item_reply_text(item, decode_status_code(item->decode_status.code),
				item->decode_status.message, 0);
		goto drop;
	}
	if (item->batch->schema_version > ing->max_schema) {
		m->batches_refused++;
		item_reply_text(item, 409, "unsupported schema_version", 0);
		goto drop;
	}
	if (item->batch->batch_id.len != 16) {
		m->batches_refused++;
		item_reply_text(item, 400, "batch_id must be 16 bytes", 0);
		goto drop;
	}
	item->kind = ITEM_BATCH;
	item_push(ing, item);
	db_kick(ing->db);
	return;
drop:
	item_batch_gone(ing);
	item_free(item);
	item_done(ing);
}

int
decode_start(struct ingest *ing, struct ingest_item *item)
{
	int r;

	item->kind = ITEM_DECODE;
	if (ing->decoding >= INGEST_DECODE_WORKERS) {
		item->next = NULL;
		item->decode_waiting = true;
		if (ing->decode_tail != NULL) {
			ing->decode_tail->next = item;
		} else {
			ing->decode_head = item;
		}
		ing->decode_tail = item;
		return 0;
	}
	r = uv_queue_work(ing->loop, &item->work, decode_work_cb, decode_after_cb);
	if (r < 0) {
		log_warnx("could not start decoding a batch: %s", uv_strerror(r));
		item_reply_text(item, 503, "busy, retry later", RETRY_AFTER_BUSY);
		item_batch_gone(ing);
		item_free(item);
		item_done(ing);
		return r;
	}
	ing->decoding++;
	return 0;
}

/* ---- device lookup ---------------------------------------------------------- */

static void
auth_done(struct db_job *job, int status)
{
	struct ingest_item *item = job->data;
	struct ingest *ing = item->ing;
	PGresult *r = job->cmds[0].result;

	ing->in_flight--;
	if (status < 0) {
		bool retry = db_job_retryable(job, status);
		log_warnx("could not look up a device token: %s (SQLSTATE %s)", job->message,
			  job->sqlstate[0] ? job->sqlstate : "none");
		item_reply_text(item, retry ? 503 : 500, "could not check the device token",
				retry ? RETRY_AFTER_DB : 0);
		goto gone;
	}
	if (r == NULL || PQntuples(r) != 1) {
		/* The body was never decompressed. */
		ing->metrics->batches_unauthorized++;
		ratelimit_charge(&ing->authfail_limit, item->peer, item_now_ns());
		log_info("device token from %s refused: unknown or revoked", item->peer);
		item_reply_text(item, 401, "unknown or revoked device token", 0);
		goto gone;
	}
	snprintf(item->device_id, sizeof(item->device_id), "%s", PQgetvalue(r, 0, 0));
	snprintf(item->device_team, sizeof(item->device_team), "%s", PQgetvalue(r, 0, 1));
	tokens_put(&ing->tokens, item->token_hash, item->device_id, item->device_team,
		   ing->cfg->device_cache_ms, item_now_ns());
	db_job_clear(job);
	if (item->reply == NULL) {
		goto gone_cleared; /* nobody to answer; the agent retries */
	}
	(void)decode_start(ing, item); /* a failure answered the client */
	return;
gone:
	db_job_clear(job);
gone_cleared:
	item_batch_gone(ing);
	item_free(item);
	item_done(ing);
}

/* ---- requests --------------------------------------------------------------- */

void *
ingest_submit(void *owner, const struct request *req, reply_fn reply, void *reply_arg)
{
	struct ingest *ing = owner;
	const struct config *cfg = ing->cfg;
	struct ingest_item *item;
	const struct tokens_entry *cached;
	uint8_t token_hash[32];
	const char *token;

	if (!request_media_type_is(req->content_type, "application/x-protobuf")) {
		item_reply_now(reply, reply_arg, 415, "Content-Type must be application/x-protobuf", 0);
		return NULL;
	}
	if (strcasecmp(req->content_encoding, "zstd") != 0) {
		item_reply_now(reply, reply_arg, 415, "Content-Encoding must be zstd", 0);
		return NULL;
	}
	token = request_bearer_token(req->authorization);
	if (token == NULL) {
		item_reply_now(reply, reply_arg, 401, "missing Authorization: Bearer device token", 0);
		return NULL;
	}
	SHA256((const unsigned char *)token, strlen(token), token_hash);
	if (!db_ready(ing->db)) {
		item_reply_now(reply, reply_arg, 503, "database unavailable, retry later",
			       RETRY_AFTER_DB);
		return NULL;
	}
	if (ing->pending >= cfg->max_pending_batches || ing->stopping) {
		item_reply_now(reply, reply_arg, ing->stopping ? 503 : 429, "busy, retry later",
			       RETRY_AFTER_BUSY);
		return NULL;
	}
	cached = tokens_get(&ing->tokens, token_hash, item_now_ns());
	if (cached == NULL &&
	    !ratelimit_allowed(&ing->authfail_limit, req->peer, item_now_ns())) {
		ing->metrics->batches_unauthorized++;
		item_reply_now(reply, reply_arg, 429,
			       "too many unknown device tokens from this address, retry later",
			       INGEST_AUTHFAIL_RETRY_S);
		return NULL;
	}
	if (req->body_len > cfg->max_body_bytes) {
		item_reply_now(reply, reply_arg, 413, "request body too large", 0);
		return NULL;
	}
	/* The item owns a copy of the body: a decode worker may still read it
	 * after the connection is gone. Nothing is decompressed before the
	 * token is known. */
	item = calloc(1, sizeof(*item));
	if (item == NULL || (item->body = malloc(req->body_len ? req->body_len : 1)) == NULL) {
		free(item);
		item_reply_now(reply, reply_arg, 503, "out of memory", RETRY_AFTER_BUSY);
		return NULL;
	}
	memcpy(item->body, req->body, req->body_len);
	item->body_len = req->body_len;
	item->limits = am_batch_default_limits;
	item->limits.max_compressed = cfg->max_body_bytes;
	item->limits.max_events = cfg->max_events;
	item->ing = ing;
	item->reply = reply;
	item->reply_arg = reply_arg;
	item->start_ns = req->received_ns;
	memcpy(item->token_hash, token_hash, sizeof(token_hash));
	snprintf(item->peer, sizeof(item->peer), "%s", req->peer);
	ing->pending++;
	item_pending_changed(ing);
	if (cached != NULL) {
		snprintf(item->device_id, sizeof(item->device_id), "%s", cached->device_id);
		snprintf(item->device_team, sizeof(item->device_team), "%s", cached->team_hint);
		/* A decode that cannot start answers at once and frees item. */
		return decode_start(ing, item) == 0 ? item : NULL;
	}
	item->kind = ITEM_AUTH;
	item->values[0] = (const char *)item->token_hash;
	item->lengths[0] = 32;
	item->formats[0] = 1;
	item->cmd = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = auth_sql, .nparams = 1,
				     .values = item->values, .lengths = item->lengths,
				     .formats = item->formats };
	item->job = (struct db_job){ .cmds = &item->cmd, .ncmds = 1, .done = auth_done,
				     .data = item };
	item_push(ing, item);
	db_kick(ing->db);
	return item;
}
