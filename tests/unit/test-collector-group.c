/*
 * test-collector-group.c: which queued batches share a write transaction
 * (group_take: queue order, the batch cap, the event cap, other work left
 * queued), and cancelling queued work (ingest_cancel: the reply is dropped,
 * the item freed, the owner told). On a real loop that closes clean.
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "config.h"
#include "ingest.h"
#include "item.h"
#include "metrics.h"
#include "test.h"

static struct ingest ing;
static struct metrics metrics;
static unsigned idle_calls, replies;

static void
idle_cb(void *arg)
{
	ASSERT(arg == &ing);
	idle_calls++;
}

static void
reply_cb(void *arg, int status, const char *content_type, const void *body, size_t len,
	 unsigned retry_after)
{
	(void)arg;
	(void)status;
	(void)content_type;
	(void)body;
	(void)len;
	(void)retry_after;
	replies++;
}

/* A decoded batch of n_events, queued; batch storage is the caller's. */
static struct ingest_item *
queue_batch(am_batch *b, size_t n_events)
{
	struct ingest_item *item = calloc(1, sizeof(*item));

	ASSERT_NOT_NULL(item);
	b->n_events = n_events;
	item->ing = &ing;
	item->kind = ITEM_BATCH;
	item->batch = b;
	item->reply = reply_cb;
	item_push(&ing, item);
	ing.pending++;
	return item;
}

static struct ingest_item *
queue_other(enum item_kind kind)
{
	struct ingest_item *item = calloc(1, sizeof(*item));

	ASSERT_NOT_NULL(item);
	item->ing = &ing;
	item->kind = kind;
	item->reply = reply_cb;
	item_push(&ing, item);
	if (IS_BATCH(item)) {
		ing.pending++;
	}
	return item;
}

static void
test_take(void)
{
	am_batch b[6];
	struct ingest_item *it[6], *other, *got[GROUP_MAX];
	unsigned n;

	memset(b, 0, sizeof(b));
	it[0] = queue_batch(&b[0], 10);
	other = queue_other(ITEM_ENROLL);
	it[1] = queue_batch(&b[1], 20);
	it[2] = queue_batch(&b[2], 500); /* would pass the event cap of 100 */
	it[3] = queue_batch(&b[3], 30);
	it[4] = queue_batch(&b[4], 30);
	ASSERT_EQ(ing.queued, 6);

	/* Queue order, skipping what does not fit; at most 3 batches. */
	n = group_take(&ing, got, 3, 100);
	ASSERT_EQ(n, 3);
	ASSERT(got[0] == it[0] && got[1] == it[1] && got[2] == it[3]);
	ASSERT_EQ(ing.queued, 3);
	ASSERT(ing.head == other);
	ASSERT(other->next == it[2] && it[2]->next == it[4] && ing.tail == it[4]);
	for (unsigned i = 0; i < n; i++) {
		ASSERT(!got[i]->queued);
		free(got[i]);
	}

	/* A batch larger than the cap still goes, alone, when it comes first. */
	n = group_take(&ing, got, 8, 100);
	ASSERT_EQ(n, 1);
	ASSERT(got[0] == it[2]);
	free(got[0]);
	n = group_take(&ing, got, 8, 100);
	ASSERT_EQ(n, 1);
	ASSERT(got[0] == it[4]);
	free(got[0]);
	ASSERT(ing.tail == other);

	/* Only database work other than batches is left: nothing to group. */
	ASSERT_EQ(group_take(&ing, got, 8, 100), 0);
	ASSERT(ing.head == other && ing.tail == other);
	ing.pending -= 5;

	/* Cancelling queued work: unlinked, freed, no reply, the owner told. */
	ingest_cancel(other);
	ASSERT(ing.head == NULL && ing.tail == NULL);
	ASSERT_EQ(ing.queued, 0);
	ASSERT_EQ(idle_calls, 1);
	ASSERT_EQ(replies, 0);
}

static void
test_cancel_batch(void)
{
	struct ingest_item *auth = queue_other(ITEM_AUTH);

	ASSERT_EQ(ing.pending, 1);
	item_pending_changed(&ing);
	ASSERT_UINT_EQ(metrics.pending_batches, 1);
	ingest_cancel(auth);
	ASSERT_EQ(ing.pending, 0);
	ASSERT_UINT_EQ(metrics.pending_batches, 0);
	ASSERT_EQ(idle_calls, 2);
	ASSERT_EQ(replies, 0);
	ASSERT(ingest_idle(&ing));
}

int
main(void)
{
	uv_loop_t loop;
	struct config *cfg = config_create();

	ASSERT_NOT_NULL(cfg);
	ASSERT_EQ(uv_loop_init(&loop), 0);
	ingest_init(&ing, &loop, cfg, NULL, &metrics, idle_cb, &ing);
	test_take();
	test_cancel_batch();
	ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(uv_loop_close(&loop), 0);
	config_destroy(cfg);
	return 0;
}
