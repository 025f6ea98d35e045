/* writetx.c: the write transaction's statements; see writetx.h. */
#include "writetx.h"

#include <string.h>

/*
 * new_identities: identities a device claimed for the first time (migration
 * 0106); NULL from an ingest_staged without that column. Read through
 * to_jsonb once per batch, so the query works with either version.
 */
static const char result_sql[] =
	"WITH s AS MATERIALIZED (SELECT t.batch_idx, t.inserted, t.duplicates, t.rejected,"
	" t.rejections, (to_jsonb(t) ->> 'new_identities')::int AS new_identities"
	" FROM aimeter.ingest_staged() t)"
	" SELECT s.batch_idx, s.inserted, s.duplicates, s.rejected, r.ord, r.reason,"
	" s.new_identities"
	" FROM s LEFT JOIN LATERAL jsonb_to_recordset(coalesce(s.rejections, '[]'::jsonb))"
	" AS r(ord int, reason text) ON true"
	" ORDER BY s.batch_idx, r.ord";

void
writetx_init(struct writetx *tx, const struct writepath_buf *batches,
	     const struct writepath_buf *events, bool defer_fold, db_job_done_cb done, void *data)
{
	tx->cmds[WRITETX_BEGIN] = (struct db_cmd){
		.kind = DB_CMD_QUERY, .sql = defer_fold ? WRITEPATH_SQL_BEGIN_DEFERRED : "BEGIN"
	};
	tx->cmds[WRITETX_COPY_BATCHES] =
		(struct db_cmd){ .kind = DB_CMD_COPY, .sql = WRITEPATH_SQL_COPY_BATCH,
				 .copy_data = batches->data, .copy_len = batches->len };
	tx->cmds[WRITETX_COPY_EVENTS] =
		(struct db_cmd){ .kind = DB_CMD_COPY, .sql = WRITEPATH_SQL_COPY_EVENTS,
				 .copy_data = events->data, .copy_len = events->len };
	tx->cmds[WRITETX_RESULT] = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = result_sql };
	tx->cmds[WRITETX_COMMIT] =
		(struct db_cmd){ .kind = DB_CMD_QUERY, .sql = "COMMIT", .is_commit = true };
	tx->job = (struct db_job){ .cmds = tx->cmds, .ncmds = WRITETX_MAX, .done = done,
				   .data = data };
}

void
writetx_add_requests(struct writetx *tx, const struct writepath_buf *requests)
{
	unsigned n = tx->job.ncmds;

	if (requests->len == 0) {
		return;
	}
	/* the steps from the result on move one down */
	memmove(&tx->cmds[WRITETX_RESULT + 1], &tx->cmds[WRITETX_RESULT],
		(n - WRITETX_RESULT) * sizeof(tx->cmds[0]));
	tx->cmds[WRITETX_RESULT] =
		(struct db_cmd){ .kind = DB_CMD_COPY, .sql = WRITEPATH_SQL_COPY_REQUESTS,
				 .copy_data = requests->data, .copy_len = requests->len };
	tx->job.ncmds = n + 1;
}

void
writetx_add_step(struct writetx *tx, const struct db_cmd *cmd)
{
	unsigned n = tx->job.ncmds;

	tx->cmds[n] = tx->cmds[n - 1]; /* COMMIT stays last */
	tx->cmds[n - 1] = *cmd;
	tx->job.ncmds = n + 1;
}

PGresult *
writetx_result(const struct db_job *job)
{
	/* after the requests' COPY when there is one */
	for (size_t i = WRITETX_RESULT; i < job->ncmds; i++) {
		if (job->cmds[i].sql == result_sql) {
			return job->cmds[i].result;
		}
	}
	return NULL;
}
