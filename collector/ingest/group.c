/*
 * group.c: decoded batches into write transactions, several small batches
 * in one, and their acknowledgements after COMMIT; see ingest.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "config.h"
#include "ingest.h"
#include "item.h"
#include "log.h"
#include "metrics.h"
#include "writetx.h"

#define GROUP_BATCH_BUF_MAX (1u << 20)
#define GROUP_EVENT_BUF_MAX (256u << 20)

static void
ack_item(struct ingest *ing, struct ingest_item *item)
{
	struct metrics *m = ing->metrics;
	Aimeter__V1__BatchAck ack = AIMETER__V1__BATCH_ACK__INIT;
	Aimeter__V1__Rejected *rej = NULL, **rejp = NULL;
	uint8_t *buf;
	size_t len;

	m->events_accepted += item->inserted;
	m->events_duplicate += item->duplicates;
	m->events_rejected += item->n_rejects;
	m->batches_committed++;
	if (item->reply == NULL) {
		return;
	}
	ack.batch_id = item->batch->batch_id;
	ack.accepted = item->inserted;
	ack.duplicates = item->duplicates;
	/* an older collector (ing->max_schema 1) does not know the field */
	ack.max_schema_version = ing->max_schema > AM_SCHEMA_VERSION ? ing->max_schema : 0;
	if (item->n_rejects > 0) {
		rej = calloc(item->n_rejects, sizeof(*rej));
		rejp = calloc(item->n_rejects, sizeof(*rejp));
		if (rej == NULL || rejp == NULL) {
			goto nomem;
		}
		for (size_t i = 0; i < item->n_rejects; i++) {
			uint32_t ord = item->rejects[i].ord;
			aimeter__v1__rejected__init(&rej[i]);
			rej[i].index = ord;
			if (ord < item->batch->n_events) {
				rej[i].event_id = item->batch->events[ord]->event_id;
			} else if (ord - item->batch->n_events < item->batch->n_actions) {
				rej[i].event_id = item->batch->actions[ord - item->batch->n_events]->action_id;
			}
			rej[i].reason = item->rejects[i].reason;
			rejp[i] = &rej[i];
		}
		ack.rejected = rejp;
		ack.n_rejected = item->n_rejects;
	}
	len = aimeter__v1__batch_ack__get_packed_size(&ack);
	buf = malloc(len ? len : 1);
	if (buf == NULL) {
		goto nomem;
	}
	aimeter__v1__batch_ack__pack(&ack, buf);
	metrics_observe(&m->batch_latency, (double)(item_now_ns() - item->start_ns) / 1e9);
	item_reply(item, 200, "application/x-protobuf", buf, len, 0);
	free(buf);
	free(rej);
	free(rejp);
	return;
nomem:
	free(rej);
	free(rejp);
	/* Committed, but we cannot say so: a retry will come back as duplicates. */
	item_reply_text(item, 503, "out of memory", RETRY_AFTER_BUSY);
}

static int
add_reject(struct ingest_item *item, int ord, const char *reason)
{
	if (item->n_rejects >= item->batch->n_events + item->batch->n_actions) {
		return -1; /* never more rejects than records sent */
	}
	item->rejects[item->n_rejects].ord = (uint32_t)ord;
	snprintf(item->rejects[item->n_rejects].reason, sizeof(item->rejects[0].reason), "%s",
		 reason);
	item->n_rejects++;
	return 0;
}

static void
note_new_identities(struct ingest *ing, struct ingest_item *item, PGresult *r, int row, int col)
{
	long n;

	if (col < 0 || PQgetisnull(r, row, col)) {
		return; /* an ingest_staged without the column */
	}
	n = strtol(PQgetvalue(r, row, col), NULL, 10);
	if (n > 0 && !item->identities_noted) {
		item->identities_noted = true;
		ing->metrics->identities_new += (uint64_t)n;
		log_info("device %s claimed %ld identit%s it never sent before", item->device_id, n,
			 n == 1 ? "y" : "ies");
	}
}

static int
parse_results(struct group *g, PGresult *r)
{
	int new_col;

	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) < 6) {
		return -1;
	}
	new_col = PQfnumber(r, "new_identities");
	for (int row = 0; row < PQntuples(r); row++) {
		long idx = strtol(PQgetvalue(r, row, 0), NULL, 10);
		struct ingest_item *item;

		if (idx < 0 || (unsigned long)idx >= g->n) {
			return -1;
		}
		item = g->items[idx];
		note_new_identities(g->ing, item, r, row, new_col);
		item->inserted = (uint32_t)strtoul(PQgetvalue(r, row, 1), NULL, 10);
		item->duplicates = (uint32_t)strtoul(PQgetvalue(r, row, 2), NULL, 10);
		if (!PQgetisnull(r, row, 4)) {
			add_reject(item, (int)strtol(PQgetvalue(r, row, 4), NULL, 10),
				   PQgetisnull(r, row, 5) ? "rejected" : PQgetvalue(r, row, 5));
		}
	}
	return 0;
}

static void
group_free(struct group *g)
{
	for (unsigned i = 0; i < g->n; i++) {
		item_free(g->items[i]);
	}
	writepath_buf_finish(&g->batches);
	writepath_buf_finish(&g->events);
	writepath_buf_finish(&g->requests);
	free(g->actions_json);
	free(g);
}

void
group_finish(struct group *g)
{
	struct ingest *ing = g->ing;

	for (unsigned i = 0; i < g->n; i++) {
		ack_item(ing, g->items[i]);
	}
	ing->pending -= g->n;
	item_pending_changed(ing);
	group_free(g);
}

static void
group_done(struct db_job *job, int status)
{
	struct group *g = job->data;
	struct ingest *ing = g->ing;
	struct metrics *m = ing->metrics;

	ing->in_flight--;
	m->transactions_in_flight--;
	if (status == 0 && parse_results(g, writetx_result(job)) < 0) {
		/* Committed, but the answer is not what write-path.md promises. */
		log_warnx("could not read the result of aimeter.ingest_staged(): unexpected shape");
		status = -EPROTO;
	}
	if (status == 0) {
		metrics_observe(&m->db_latency, (double)(item_now_ns() - job->started_ns) / 1e9);
		db_job_clear(job);
		if (g->deferred) {
			/* Acked once the rollups hold it: exact for whoever reads next. */
			fold_await(ing, g);
		} else {
			group_finish(g);
		}
		item_done(ing);
		return;
	}
	{
		bool retry = db_job_retryable(job, status);
		m->db_errors++;
		log_warnx("could not write %u batch%s: %s (SQLSTATE %s)%s", g->n,
			  g->n == 1 ? "" : "es", job->message[0] ? job->message : strerror(-status),
			  job->sqlstate[0] ? job->sqlstate : "none",
			  retry ? "; the client will retry" : "");
		for (unsigned i = 0; i < g->n; i++) {
			item_reply_text(g->items[i], retry ? 503 : 500,
					retry ? "database unavailable, retry later"
					      : "could not write the batch",
					retry ? RETRY_AFTER_DB : 0);
		}
	}
	db_job_clear(job);
	ing->pending -= g->n;
	item_pending_changed(ing);
	group_free(g);
	item_done(ing);
}

unsigned
group_take(struct ingest *ing, struct ingest_item **items, unsigned max, size_t max_events)
{
	struct ingest_item **pp = &ing->head, *prev = NULL;
	size_t events = 0;
	unsigned n = 0;

	while (*pp != NULL && n < max) {
		struct ingest_item *item = *pp;
		if (item->kind != ITEM_BATCH ||
		    (n > 0 && events + item->batch->n_events + item->batch->n_actions > max_events)) {
			prev = item;
			pp = &item->next;
			continue;
		}
		*pp = item->next;
		if (ing->tail == item) {
			ing->tail = prev;
		}
		item->next = NULL;
		item->queued = false;
		ing->queued--;
		items[n++] = item;
		events += item->batch->n_events + item->batch->n_actions;
	}
	return n;
}

/*
 * The decoder's action faults become rejects here (the database never sees
 * those actions); the rest go to aimeter.ingest_actions() as one more
 * statement of the transaction, so the ack still means committed.
 */
static int
stage_actions(struct ingest *ing, struct group *g)
{
	size_t len = 0;
	int first = 1, n = 0;
	FILE *f = open_memstream(&g->actions_json, &len);

	if (f == NULL) {
		return -ENOMEM;
	}
	fputc('[', f);
	for (unsigned i = 0; i < g->n; i++) {
		struct ingest_item *item = g->items[i];
		const am_batch *b = item->batch;
		int r;

		for (size_t j = 0; item->faults != NULL && j < b->n_actions; j++) {
			uint8_t fault = item->faults[b->n_events + j];
			if (fault != AM_EVENT_OK) {
				add_reject(item, (int)(b->n_events + j),
					   am_event_fault_name((enum am_event_fault)fault));
			}
		}
		r = actions_format(f, &first, ing->person_key, ing->person_key_len, item->device_id,
				   item->device_team, b, item->faults);
		if (r < 0) {
			fclose(f);
			return r;
		}
		n += r;
	}
	fputc(']', f);
	if (fclose(f) != 0) {
		return -ENOMEM;
	}
	if (n > 0) {
		g->actions_value[0] = g->actions_json;
		g->actions_cmd = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = ACTIONS_SQL_INGEST,
						  .nparams = 1, .values = g->actions_value };
		writetx_add_step(&g->tx, &g->actions_cmd);
	}
	return 0;
}

/* Build one transaction from up to GROUP_MAX queued batches. */
struct db_job *
group_build(struct ingest *ing)
{
	struct group *g = calloc(1, sizeof(*g));
	unsigned max = (unsigned)ing->cfg->group_max_batches;

	if (g == NULL) {
		return NULL;
	}
	g->ing = ing;
	if (max > GROUP_MAX) {
		max = GROUP_MAX;
	}
	/* Grouping saves per-transaction cost for small batches; for large ones it
	 * only makes acknowledgements wait for each other. */
	g->n = group_take(ing, g->items, max, (size_t)ing->cfg->group_max_events);
	writepath_buf_init(&g->batches, GROUP_BATCH_BUF_MAX);
	writepath_buf_init(&g->events, GROUP_EVENT_BUF_MAX);
	writepath_buf_init(&g->requests, GROUP_EVENT_BUF_MAX);
	for (unsigned i = 0; i < g->n; i++) {
		struct ingest_item *item = g->items[i];
		am_batch *b = item->batch;

		item->rejects = calloc(b->n_events + b->n_actions ? b->n_events + b->n_actions : 1,
				       sizeof(*item->rejects));
		if (item->rejects == NULL ||
		    writepath_format_batch(&g->batches, (int)i, item->device_id, b->batch_id.data,
					   b->batch_id.len, b->n_events,
					   b->spool_dropped_events) < 0 ||
		    ingest_format_events(ing->person_key, ing->person_key_len, item->device_team, b,
					 item->faults, (int)i, &g->events) < 0 ||
		    ingest_format_requests(b, item->faults, (int)i, &g->requests) < 0) {
			goto nomem;
		}
	}
	/* Under load (more batches queued) the fold is left to fold.c, once
	 * for many transactions; otherwise this one folds, exact at COMMIT. */
	g->deferred = ing->queued > 0;
	writetx_init(&g->tx, &g->batches, &g->events, g->deferred, group_done, g);
	writetx_add_requests(&g->tx, &g->requests);
	if (stage_actions(ing, g) < 0) {
		goto nomem;
	}
	ing->in_flight++;
	ing->metrics->transactions_in_flight++;
	return &g->tx.job;
nomem:
	log_warnx("could not stage %u batches: out of memory", g->n);
	for (unsigned i = 0; i < g->n; i++) {
		item_reply_text(g->items[i], 503, "out of memory", RETRY_AFTER_BUSY);
	}
	ing->pending -= g->n;
	item_pending_changed(ing);
	group_free(g);
	return NULL;
}
