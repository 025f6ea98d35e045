/* item.c: ingest work items, their queue and their answers; see item.h. */
#include "item.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics.h"

uint64_t
item_now_ns(void)
{
	return uv_hrtime();
}

void
item_free(struct ingest_item *item)
{
	if (item == NULL) {
		return;
	}
	am_batch_free(item->batch);
	free(item->body);
	free(item->faults);
	if (item->enroll != NULL) {
		aimeter__v1__enroll_request__free_unpacked(item->enroll, NULL);
	}
	free(item->rejects);
	OPENSSL_cleanse(item->token, sizeof(item->token));
	free(item);
}

void
item_reply(struct ingest_item *item, int status, const char *ctype, const void *body, size_t len,
	   unsigned retry_after)
{
	reply_fn reply = item->reply;

	if (reply == NULL) {
		return;
	}
	item->reply = NULL;
	reply(item->reply_arg, status, ctype, body, len, retry_after);
}

void
item_reply_now(reply_fn reply, void *reply_arg, int status, const char *msg,
	       unsigned retry_after)
{
	char body[300];
	int n = snprintf(body, sizeof(body), "%s\n", msg);

	reply(reply_arg, status, "text/plain; charset=utf-8", body,
	      n < (int)sizeof(body) ? (size_t)n : sizeof(body) - 1, retry_after);
}

void
item_reply_text(struct ingest_item *item, int status, const char *msg, unsigned retry_after)
{
	reply_fn reply = item->reply;

	if (reply == NULL) {
		return;
	}
	item->reply = NULL;
	item_reply_now(reply, item->reply_arg, status, msg, retry_after);
}

void
item_push(struct ingest *ing, struct ingest_item *item)
{
	item->queued = true;
	item->next = NULL;
	if (ing->tail != NULL) {
		ing->tail->next = item;
	} else {
		ing->head = item;
	}
	ing->tail = item;
	ing->queued++;
}

void
item_unlink(struct ingest *ing, struct ingest_item *item)
{
	struct ingest_item **pp = &ing->head, *prev = NULL;

	while (*pp != NULL && *pp != item) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL) {
		return;
	}
	*pp = item->next;
	if (ing->tail == item) {
		ing->tail = prev;
	}
	item->next = NULL;
	item->queued = false;
	ing->queued--;
}

void
item_pending_changed(struct ingest *ing)
{
	ing->metrics->pending_batches = ing->pending;
}

void
item_batch_gone(struct ingest *ing)
{
	ing->pending--;
	item_pending_changed(ing);
}

void
item_done(struct ingest *ing)
{
	ing->idle_cb(ing->idle_arg);
}
