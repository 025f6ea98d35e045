/*
 * writetx.h: the collector's write transaction (docs/write-path.md) as one
 * db job: BEGIN, COPY the batches and events into the session's staging
 * tables, run aimeter.ingest_staged(), COMMIT. The statements live here and
 * in writepath.h, nowhere else in the collector.
 */
#ifndef AM_COLLECTOR_WRITETX_H
#define AM_COLLECTOR_WRITETX_H

#include "db.h"
#include "writepath.h"

enum writetx_cmd { WRITETX_BEGIN, WRITETX_COPY_BATCHES, WRITETX_COPY_EVENTS, WRITETX_RESULT,
		   WRITETX_COMMIT, WRITETX_MAX };

struct writetx {
	struct db_job job;
	struct db_cmd cmds[WRITETX_MAX + 2]; /* + writetx_add_requests, writetx_add_step */
};

/*
 * writetx_init(tx, batches, events, defer_fold, done, data): the job for the
 * staged rows in batches and events (borrowed until done runs). defer_fold:
 * leave the rollups to a later WRITEPATH_SQL_FOLD (docs/write-path.md).
 */
void writetx_init(struct writetx *tx, const struct writepath_buf *batches,
		  const struct writepath_buf *events, bool defer_fold, db_job_done_cb done,
		  void *data);

/*
 * writetx_add_requests(tx, requests): COPY the am_stage_request rows in
 * requests (borrowed until done runs) before aimeter.ingest_staged(), which
 * matches calls by request id; nothing when requests is empty. At most once.
 */
void writetx_add_requests(struct writetx *tx, const struct writepath_buf *requests);

/* writetx_add_step(tx, cmd): one more statement (cmd, borrowed) just before COMMIT. */
void writetx_add_step(struct writetx *tx, const struct db_cmd *cmd);

/*
 * writetx_result(job): inside done, the rows of aimeter.ingest_staged(), one
 * per batch and rejection: batch_idx, inserted, duplicates, rejected, ord,
 * reason, new_identities. NULL when the job failed.
 */
PGresult *writetx_result(const struct db_job *job);

#endif
