/*
 * fold.c: the rollups' fold under load (docs/write-path.md, "The fold").
 * A transaction begun while other batches were queued leaves usage_daily
 * and usage_monthly to aimeter.fold_rollups(); its batches are acked only
 * after a fold that holds them has committed, so whoever reads after an
 * ack reads exact rollups. One fold job at a time, run by the pool before
 * any other queued work once due.
 */
#include <string.h>

#include "ingest.h"
#include "item.h"
#include "log.h"
#include "writepath.h"

static void
ack_groups(struct group *g)
{
	while (g != NULL) {
		struct group *next = g->next;
		group_finish(g);
		g = next;
	}
}

static void
fold_done(struct db_job *job, int status)
{
	struct ingest *ing = job->data;
	struct group *taken = ing->folding;

	ing->in_flight--;
	ing->fold_running = false;
	ing->folding = NULL;
	if (status != 0) {
		/* The batches are committed and still unfolded: the next fold (or
		 * the next reader) adds them; the acks must not wait for it. */
		log_warnx("could not fold the rollups: %s (SQLSTATE %s); the next fold will",
			  job->message[0] ? job->message : strerror(-status),
			  job->sqlstate[0] ? job->sqlstate : "none");
	}
	db_job_clear(job);
	ack_groups(taken);
	item_done(ing);
}

bool
fold_due(const struct ingest *ing)
{
	if (ing->await_head == NULL || ing->fold_running) {
		return false;
	}
	return ing->head == NULL || ing->awaiting >= WRITEPATH_FOLD_EVERY_BATCHES ||
	       item_now_ns() - ing->await_since_ns >= WRITEPATH_FOLD_EVERY_MS * 1000000ull;
}

struct db_job *
fold_build(struct ingest *ing)
{
	if (ing->await_head == NULL || ing->fold_running) {
		return NULL;
	}
	ing->folding = ing->await_head;
	ing->await_head = ing->await_tail = NULL;
	ing->awaiting = 0;
	ing->fold_running = true;
	ing->in_flight++;
	ing->fold_cmd = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = WRITEPATH_SQL_FOLD };
	ing->fold_job = (struct db_job){ .cmds = &ing->fold_cmd, .ncmds = 1, .done = fold_done,
					 .data = ing };
	return &ing->fold_job;
}

void
fold_await(struct ingest *ing, struct group *g)
{
	g->next = NULL;
	if (ing->await_tail == NULL) {
		ing->await_head = g;
		ing->await_since_ns = item_now_ns();
	} else {
		ing->await_tail->next = g;
	}
	ing->await_tail = g;
	ing->awaiting++;
}

void
fold_flush(struct ingest *ing)
{
	struct group *g = ing->await_head;

	ing->await_head = ing->await_tail = NULL;
	ing->awaiting = 0;
	ack_groups(g);
}
