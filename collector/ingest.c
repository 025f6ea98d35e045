/* ingest.c: batches and enrollment through the database's write path; see ingest.h. */
#include "ingest.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "collector.h"
#include "conn.h"
#include "hex.h"
#include "log.h"
#include "secret-file.h"
#include "writepath.h"

#define GROUP_MAX 64
#define RETRY_AFTER_DB 2
#define RETRY_AFTER_BUSY 1

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
	struct conn *conn; /* NULL once the client went away */
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

struct group {
	struct ingest *ing;
	struct db_job job;
	struct db_cmd cmds[5];
	struct ingest_item *items[GROUP_MAX];
	unsigned n;
	struct writepath_buf batches, events;
};

static void decode_unlink(struct ingest *ing, struct ingest_item *item);

static const char auth_sql[] = "SELECT device_id::text, coalesce(team_hint, '')"
			       " FROM aimeter.devices WHERE token_hash = $1 AND revoked_at IS NULL";
static const char enroll_sql[] =
	"SELECT aimeter.enroll_device($1, $2, $3, $4, $5)::text,"
	" (SELECT project_label_key FROM aimeter.settings LIMIT 1)";
static const char begin_sql[] = "BEGIN";
static const char copy_batch_sql[] = WRITEPATH_SQL_COPY_BATCH;
static const char copy_event_sql[] = WRITEPATH_SQL_COPY_EVENTS;
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
static const char commit_sql[] = "COMMIT";

/* ---- COPY text -------------------------------------------------------------- */

#define GROUP_BATCH_BUF_MAX (1u << 20)
#define GROUP_EVENT_BUF_MAX (256u << 20)

static bool
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		return true;
	}
	while (*p) {
		unsigned c = *p, n;
		uint32_t cp;
		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			return false;
		}
		p += n + 1;
	}
	return true;
}

int
ingest_format_events(const uint8_t *key, size_t key_len, const char *device_team,
		     const am_batch *batch, const uint8_t *faults, int batch_idx,
		     struct writepath_buf *out)
{
	for (size_t i = 0; i < batch->n_events; i++) {
		const am_usage_event *e = batch->events[i];
		uint8_t mac[AM_IDENTITY_HMAC_LEN];
		const uint8_t *hmac = NULL;
		const char *reason = faults != NULL && faults[i] != AM_EVENT_OK ?
					     am_event_fault_name((enum am_event_fault)faults[i]) :
					     NULL;
		int r;

		/* The raw identity never reaches a row: only its keyed hash. */
		if (e->user != NULL && e->user[0] != '\0' && key_len > 0 &&
		    identity_hmac(key, key_len, e->user, mac) == 0) {
			hmac = mac;
		}
		/* The agent's own hint wins; the enrollment secret's team fills a gap. */
		const char *team = device_team != NULL && device_team[0] != '\0' &&
						   (e->team_hint == NULL || e->team_hint[0] == '\0') ?
					   device_team :
					   NULL;
		/* A faulty event is staged with its reason: ingest_staged stores it. */
		r = writepath_format_event(out, batch_idx, (int)i, e, hmac, team, reason);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

/* ---- items and replies ------------------------------------------------------ */

static uint64_t
now_ns(void)
{
	return uv_hrtime();
}

static void
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

static void
reply(struct ingest_item *item, int status, const char *ctype, const void *body, size_t len,
      unsigned retry_after)
{
	struct conn *c = item->conn;

	if (c == NULL) {
		return;
	}
	item->conn = NULL;
	c->item = NULL;
	conn_respond(c, status, ctype, body, len, retry_after);
}

static void
reply_text(struct conn *c, int status, const char *msg, unsigned retry_after)
{
	char body[300];
	int n = snprintf(body, sizeof(body), "%s\n", msg);

	conn_respond(c, status, "text/plain; charset=utf-8", body,
		     n < (int)sizeof(body) ? (size_t)n : sizeof(body) - 1, retry_after);
}

static void
item_reply_text(struct ingest_item *item, int status, const char *msg, unsigned retry_after)
{
	struct conn *c = item->conn;

	if (c == NULL) {
		return;
	}
	item->conn = NULL;
	c->item = NULL;
	reply_text(c, status, msg, retry_after);
}

static void
enqueue(struct ingest *ing, struct ingest_item *item, bool front)
{
	item->queued = true;
	if (front) {
		item->next = ing->head;
		ing->head = item;
		if (ing->tail == NULL) {
			ing->tail = item;
		}
	} else {
		item->next = NULL;
		if (ing->tail != NULL) {
			ing->tail->next = item;
		} else {
			ing->head = item;
		}
		ing->tail = item;
	}
	ing->queued++;
}

static void
unlink_item(struct ingest *ing, struct ingest_item *item)
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

static void
set_pending(struct ingest *ing)
{
	ing->col->metrics.pending_batches = ing->pending;
}

static void
batch_gone(struct ingest *ing)
{
	ing->pending--;
	set_pending(ing);
}

void
ingest_detach(struct ingest_item *item)
{
	struct ingest *ing = item->ing;

	item->conn = NULL;
	if (item->decode_waiting) {
		decode_unlink(ing, item);
		batch_gone(ing);
		item_free(item);
		collector_maybe_finish(ing->col);
		return;
	}
	/* On a decode worker: decode_after_cb sees conn == NULL and drops it. */
	if (item->queued) {
		/* Not started yet: drop it; the client will retry. */
		unlink_item(ing, item);
		if (IS_BATCH(item)) {
			batch_gone(ing);
		}
		item_free(item);
		collector_maybe_finish(ing->col);
	}
}

/* ---- device cache ----------------------------------------------------------- */

static struct ingest_cache_entry *
cache_slot(struct ingest *ing, const uint8_t hash[32])
{
	uint32_t h;

	memcpy(&h, hash, sizeof(h));
	return &ing->cache[h % INGEST_CACHE_SLOTS];
}

static const struct ingest_cache_entry *
cache_get(struct ingest *ing, const uint8_t hash[32])
{
	struct ingest_cache_entry *e = cache_slot(ing, hash);

	if (e->expires_ns != 0 && e->expires_ns > now_ns() &&
	    memcmp(e->token_hash, hash, 32) == 0) {
		return e;
	}
	return NULL;
}

static void
cache_put(struct ingest *ing, const uint8_t hash[32], const char *device_id, const char *team_hint)
{
	struct ingest_cache_entry *e = cache_slot(ing, hash);
	uint64_t ttl = ing->col->cfg->device_cache_ms;

	if (ttl == 0) {
		return;
	}
	if (ttl > INGEST_CACHE_TTL_MAX_MS) {
		ttl = INGEST_CACHE_TTL_MAX_MS;
	}
	memcpy(e->token_hash, hash, 32);
	snprintf(e->device_id, sizeof(e->device_id), "%s", device_id);
	snprintf(e->team_hint, sizeof(e->team_hint), "%s", team_hint);
	e->expires_ns = now_ns() + ttl * 1000000ull;
}

void
ingest_device_revoked(void *owner, const char *device_id)
{
	struct ingest *ing = owner;
	unsigned purged = 0;

	for (unsigned i = 0; i < INGEST_CACHE_SLOTS; i++) {
		struct ingest_cache_entry *e = &ing->cache[i];
		if (e->expires_ns != 0 && strcmp(e->device_id, device_id) == 0) {
			OPENSSL_cleanse(e, sizeof(*e));
			purged++;
		}
	}
	/* Every pool connection hears the NOTIFY: say it once, where it counted. */
	if (purged > 0) {
		log_info("device %.40s revoked: %u cached token%s purged", device_id, purged,
			 purged == 1 ? "" : "s");
	} else {
		log_debug("device %.40s revoked: no cached token", device_id);
	}
}

/* ---- write transactions ----------------------------------------------------- */

static void
ack_item(struct ingest *ing, struct ingest_item *item)
{
	struct metrics *m = &ing->col->metrics;
	Aimeter__V1__BatchAck ack = AIMETER__V1__BATCH_ACK__INIT;
	Aimeter__V1__Rejected *rej = NULL, **rejp = NULL;
	uint8_t *buf;
	size_t len;

	m->events_accepted += item->inserted;
	m->events_duplicate += item->duplicates;
	m->events_rejected += item->n_rejects;
	m->batches_committed++;
	if (item->conn == NULL) {
		return;
	}
	ack.batch_id = item->batch->batch_id;
	ack.accepted = item->inserted;
	ack.duplicates = item->duplicates;
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
	metrics_observe(&m->batch_latency, (double)(now_ns() - item->start_ns) / 1e9);
	reply(item, 200, "application/x-protobuf", buf, len, 0);
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
	if (item->n_rejects >= item->batch->n_events) {
		return -1; /* the database never rejects more events than were sent */
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
		ing->col->metrics.identities_new += (uint64_t)n;
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
	free(g);
}

static void
group_done(struct db_job *job, int status)
{
	struct group *g = job->data;
	struct ingest *ing = g->ing;
	struct metrics *m = &ing->col->metrics;

	ing->in_flight--;
	m->transactions_in_flight--;
	if (status == 0 && parse_results(g, job->cmds[3].result) < 0) {
		/* Committed, but the answer is not what write-path.md promises. */
		log_warnx("could not read the result of aimeter.ingest_staged(): unexpected shape");
		status = -EPROTO;
	}
	if (status == 0) {
		metrics_observe(&m->db_latency, (double)(now_ns() - job->started_ns) / 1e9);
		for (unsigned i = 0; i < g->n; i++) {
			ack_item(ing, g->items[i]);
		}
	} else {
		bool retry = status == -ECONNRESET || status == -ECANCELED ||
			     db_retryable(job->sqlstate);
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
	set_pending(ing);
	group_free(g);
	collector_maybe_finish(ing->col);
}

/* Build one transaction from up to GROUP_MAX queued batches. */
static struct db_job *
group_build(struct ingest *ing)
{
	struct group *g = calloc(1, sizeof(*g));
	struct ingest_item **pp = &ing->head, *prev = NULL;
	size_t events = 0;
	unsigned max = (unsigned)ing->col->cfg->group_max_batches;
	/* Grouping saves per-transaction cost for small batches; for large ones it
	 * only makes acknowledgements wait for each other. */
	size_t max_events = (size_t)ing->col->cfg->group_max_events;

	if (g == NULL) {
		return NULL;
	}
	g->ing = ing;
	if (max > GROUP_MAX) {
		max = GROUP_MAX;
	}
	while (*pp != NULL && g->n < max) {
		struct ingest_item *item = *pp;
		if (item->kind != ITEM_BATCH ||
		    (g->n > 0 && events + item->batch->n_events > max_events)) {
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
		g->items[g->n++] = item;
		events += item->batch->n_events;
	}
	writepath_buf_init(&g->batches, GROUP_BATCH_BUF_MAX);
	writepath_buf_init(&g->events, GROUP_EVENT_BUF_MAX);
	for (unsigned i = 0; i < g->n; i++) {
		struct ingest_item *item = g->items[i];
		am_batch *b = item->batch;

		item->rejects = calloc(b->n_events ? b->n_events : 1, sizeof(*item->rejects));
		if (item->rejects == NULL ||
		    writepath_format_batch(&g->batches, (int)i, item->device_id, b->batch_id.data,
					   b->batch_id.len, b->n_events,
					   b->spool_dropped_events) < 0 ||
		    ingest_format_events(ing->person_key, ing->person_key_len, item->device_team, b,
					 item->faults, (int)i, &g->events) < 0) {
			goto nomem;
		}
	}
	g->cmds[0] = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = begin_sql };
	g->cmds[1] = (struct db_cmd){ .kind = DB_CMD_COPY, .sql = copy_batch_sql,
				      .copy_data = g->batches.data, .copy_len = g->batches.len };
	g->cmds[2] = (struct db_cmd){ .kind = DB_CMD_COPY, .sql = copy_event_sql,
				      .copy_data = g->events.data, .copy_len = g->events.len };
	g->cmds[3] = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = result_sql };
	g->cmds[4] = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = commit_sql, .is_commit = true };
	g->job = (struct db_job){ .cmds = g->cmds, .ncmds = 5, .done = group_done, .data = g };
	ing->in_flight++;
	ing->col->metrics.transactions_in_flight++;
	return &g->job;
nomem:
	log_warnx("could not stage %u batches: out of memory", g->n);
	for (unsigned i = 0; i < g->n; i++) {
		item_reply_text(g->items[i], 503, "out of memory", RETRY_AFTER_BUSY);
	}
	ing->pending -= g->n;
	set_pending(ing);
	group_free(g);
	return NULL;
}

/* ---- decoding, on the threadpool ------------------------------------------- */

static void decode_start(struct ingest *ing, struct ingest_item *item);

static void
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
		decode_start(ing, item);
	}
}

static void
decode_after_cb(uv_work_t *w, int status)
{
	struct ingest_item *item = container_of(w, struct ingest_item, work);
	struct ingest *ing = item->ing;
	struct metrics *m = &ing->col->metrics;

	ing->decoding--;
	decode_next(ing);
	if (item->conn == NULL || status < 0) {
		goto drop; /* the client went away; it retries */
	}
	if (ing->col->db_closed) {
		item_reply_text(item, 503, "shutting down, retry later", RETRY_AFTER_DB);
		goto drop;
	}
	if (item->decode_rc < 0) {
		m->batches_refused++;
		item_reply_text(item, decode_status_code(item->decode_status.code),
				item->decode_status.message, 0);
		goto drop;
	}
	if (item->batch->batch_id.len != 16) {
		m->batches_refused++;
		item_reply_text(item, 400, "batch_id must be 16 bytes", 0);
		goto drop;
	}
	item->kind = ITEM_BATCH;
	enqueue(ing, item, false);
	db_kick(&ing->col->db);
	return;
drop:
	batch_gone(ing);
	item_free(item);
	collector_maybe_finish(ing->col);
}

static void
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
		return;
	}
	r = uv_queue_work(&ing->col->loop, &item->work, decode_work_cb, decode_after_cb);
	if (r < 0) {
		log_warnx("could not start decoding a batch: %s", uv_strerror(r));
		item_reply_text(item, 503, "busy, retry later", RETRY_AFTER_BUSY);
		batch_gone(ing);
		item_free(item);
		collector_maybe_finish(ing->col);
		return;
	}
	ing->decoding++;
}

/* ---- device lookup ---------------------------------------------------------- */

/*
 * Token bucket per peer address. The table is bounded: a new address takes
 * a free slot, else the one idle longest among a few probed, so a flood of
 * addresses only forgets old buckets (they refill anyway).
 */
#define INGEST_PEER_PROBE 8
#define INGEST_ENROLL_RETRY_S 5
#define INGEST_AUTHFAIL_RETRY_S 10

/* The bucket of peer in table, refilled to now; NULL-free: a slot is reused. */
static struct ingest_peer_bucket *
peer_bucket(struct ingest_peer_bucket *table, const char *peer, double burst, double per_sec)
{
	uint32_t h = 2166136261u;
	struct ingest_peer_bucket *b = NULL, *oldest = NULL;
	uint64_t now = now_ns();

	for (const char *p = peer; *p; p++) {
		h = (h ^ (uint8_t)*p) * 16777619u;
	}
	for (unsigned i = 0; i < INGEST_PEER_PROBE && b == NULL; i++) {
		struct ingest_peer_bucket *e = &table[(h + i) % INGEST_PEER_SLOTS];
		if (e->peer[0] != '\0' && strcmp(e->peer, peer) == 0) {
			b = e;
		} else if (oldest == NULL || e->peer[0] == '\0' ||
			   (oldest->peer[0] != '\0' && e->last_ns < oldest->last_ns)) {
			oldest = e;
		}
	}
	if (b == NULL) {
		b = oldest;
		snprintf(b->peer, sizeof(b->peer), "%s", peer);
		b->tokens = burst;
		b->last_ns = now;
	}
	b->tokens += (double)(now - b->last_ns) / 1e9 * per_sec;
	if (b->tokens > burst) {
		b->tokens = burst;
	}
	b->last_ns = now;
	return b;
}

static bool
enroll_allowed(struct ingest *ing, const char *peer)
{
	struct ingest_peer_bucket *b = peer_bucket(ing->enroll_buckets, peer, INGEST_ENROLL_BURST,
						   INGEST_ENROLL_PER_SEC);

	if (b->tokens < 1) {
		return false;
	}
	b->tokens -= 1;
	return true;
}

/* May peer's next uncached token be looked up? Only failures are charged. */
static bool
authfail_allowed(struct ingest *ing, const char *peer)
{
	return peer_bucket(ing->authfail_buckets, peer, INGEST_AUTHFAIL_BURST,
			   INGEST_AUTHFAIL_PER_SEC)->tokens >= 1;
}

static void
authfail_charge(struct ingest *ing, const char *peer)
{
	struct ingest_peer_bucket *b = peer_bucket(ing->authfail_buckets, peer,
						   INGEST_AUTHFAIL_BURST, INGEST_AUTHFAIL_PER_SEC);

	b->tokens = b->tokens >= 1 ? b->tokens - 1 : 0;
}

static void
auth_done(struct db_job *job, int status)
{
	struct ingest_item *item = job->data;
	struct ingest *ing = item->ing;
	PGresult *r = job->cmds[0].result;

	ing->in_flight--;
	if (status < 0) {
		bool retry = status == -ECONNRESET || status == -ECANCELED ||
			     db_retryable(job->sqlstate);
		log_warnx("could not look up a device token: %s (SQLSTATE %s)", job->message,
			  job->sqlstate[0] ? job->sqlstate : "none");
		item_reply_text(item, retry ? 503 : 500, "could not check the device token",
				retry ? RETRY_AFTER_DB : 0);
		goto gone;
	}
	if (r == NULL || PQntuples(r) != 1) {
		/* The body was never decompressed. */
		ing->col->metrics.batches_unauthorized++;
		authfail_charge(ing, item->peer);
		log_info("device token from %s refused: unknown or revoked", item->peer);
		item_reply_text(item, 401, "unknown or revoked device token", 0);
		goto gone;
	}
	snprintf(item->device_id, sizeof(item->device_id), "%s", PQgetvalue(r, 0, 0));
	snprintf(item->device_team, sizeof(item->device_team), "%s", PQgetvalue(r, 0, 1));
	cache_put(ing, item->token_hash, item->device_id, item->device_team);
	db_job_clear(job);
	if (item->conn == NULL) {
		goto gone_cleared; /* nobody to answer; the agent retries */
	}
	decode_start(ing, item);
	return;
gone:
	db_job_clear(job);
gone_cleared:
	batch_gone(ing);
	item_free(item);
	collector_maybe_finish(ing->col);
}

/* ---- the pull callback ------------------------------------------------------ */

struct db_job *
ingest_next_job(void *owner)
{
	struct ingest *ing = owner;

	while (ing->head != NULL) {
		struct ingest_item *item = ing->head;
		struct db_job *job;

		if (item->kind != ITEM_BATCH) {
			unlink_item(ing, item);
			ing->in_flight++;
			return &item->job;
		}
		job = group_build(ing);
		if (job != NULL) {
			return job;
		}
	}
	return NULL;
}

bool
ingest_idle(const struct ingest *ing)
{
	return ing->head == NULL && ing->in_flight == 0 && ing->decode_head == NULL &&
	       ing->decoding == 0;
}

void
ingest_fail_queued(struct ingest *ing, int status)
{
	/* Decodes on a worker finish by themselves (decode_after_cb). */
	while (ing->decode_head != NULL) {
		struct ingest_item *item = ing->decode_head;
		decode_unlink(ing, item);
		item_reply_text(item, status, "shutting down, retry later", RETRY_AFTER_DB);
		batch_gone(ing);
		item_free(item);
	}
	while (ing->head != NULL) {
		struct ingest_item *item = ing->head;
		unlink_item(ing, item);
		item_reply_text(item, status, "database unavailable, retry later", RETRY_AFTER_DB);
		if (IS_BATCH(item)) {
			batch_gone(ing);
		}
		item_free(item);
	}
}

/* ---- requests --------------------------------------------------------------- */

/* "application/x-protobuf", optionally with parameters. */
static bool
media_type_is(const char *value, const char *want)
{
	size_t n = strlen(want);

	while (*value == ' ') {
		value++;
	}
	return strncasecmp(value, want, n) == 0 &&
	       (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

/* The token after "Bearer ", or NULL. */
static const char *
bearer_token(const char *auth)
{
	if (strncasecmp(auth, "Bearer ", 7) != 0) {
		return NULL;
	}
	auth += 7;
	while (*auth == ' ') {
		auth++;
	}
	return *auth != '\0' ? auth : NULL;
}

void
ingest_batch(struct ingest *ing, struct conn *c)
{
	struct collector *col = ing->col;
	struct http_request *req = &c->req;
	struct ingest_item *item;
	const struct ingest_cache_entry *cached;
	uint8_t token_hash[32];
	const char *token;

	if (!media_type_is(req->content_type, "application/x-protobuf")) {
		reply_text(c, 415, "Content-Type must be application/x-protobuf", 0);
		return;
	}
	if (strcasecmp(req->content_encoding, "zstd") != 0) {
		reply_text(c, 415, "Content-Encoding must be zstd", 0);
		return;
	}
	token = bearer_token(req->authorization);
	if (token == NULL) {
		reply_text(c, 401, "missing Authorization: Bearer device token", 0);
		return;
	}
	SHA256((const unsigned char *)token, strlen(token), token_hash);
	if (!db_ready(&col->db)) {
		reply_text(c, 503, "database unavailable, retry later", RETRY_AFTER_DB);
		return;
	}
	if (ing->pending >= col->cfg->max_pending_batches || col->stopping) {
		reply_text(c, col->stopping ? 503 : 429, "busy, retry later", RETRY_AFTER_BUSY);
		return;
	}
	cached = cache_get(ing, token_hash);
	if (cached == NULL && !authfail_allowed(ing, c->peer)) {
		ing->col->metrics.batches_unauthorized++;
		reply_text(c, 429, "too many unknown device tokens from this address, retry later",
			   INGEST_AUTHFAIL_RETRY_S);
		return;
	}
	if (req->body_len > col->cfg->max_body_bytes) {
		reply_text(c, 413, "request body too large", 0);
		return;
	}
	/* The item owns a copy of the body: a decode worker may still read it
	 * after the connection is gone. Nothing is decompressed before the
	 * token is known. */
	item = calloc(1, sizeof(*item));
	if (item == NULL || (item->body = malloc(req->body_len ? req->body_len : 1)) == NULL) {
		free(item);
		reply_text(c, 503, "out of memory", RETRY_AFTER_BUSY);
		return;
	}
	memcpy(item->body, req->body, req->body_len);
	item->body_len = req->body_len;
	item->limits = am_batch_default_limits;
	item->limits.max_compressed = col->cfg->max_body_bytes;
	item->limits.max_events = col->cfg->max_events;
	item->ing = ing;
	item->conn = c;
	item->start_ns = c->request_ns;
	memcpy(item->token_hash, token_hash, sizeof(token_hash));
	snprintf(item->peer, sizeof(item->peer), "%s", c->peer);
	c->item = item;
	ing->pending++;
	set_pending(ing);
	if (cached != NULL) {
		snprintf(item->device_id, sizeof(item->device_id), "%s", cached->device_id);
		snprintf(item->device_team, sizeof(item->device_team), "%s", cached->team_hint);
		decode_start(ing, item);
		return;
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
	enqueue(ing, item, false);
	db_kick(&col->db);
}

static void
enroll_done(struct db_job *job, int status)
{
	struct ingest_item *item = job->data;
	struct ingest *ing = item->ing;
	PGresult *r = job->cmds[0].result;
	Aimeter__V1__EnrollResponse resp = AIMETER__V1__ENROLL_RESPONSE__INIT;
	uint8_t key[256], *buf;
	size_t key_len = 0, len;

	ing->in_flight--;
	if (status < 0) {
		if (strcmp(job->sqlstate, "28000") == 0 || strcmp(job->sqlstate, "AMREV") == 0 ||
		    strcmp(job->sqlstate, "AMCAP") == 0) {
			bool revoked = job->sqlstate[2] == 'R', cap = job->sqlstate[2] == 'C';
			ing->col->metrics.enroll_failures++;
			log_warnx("enrollment from %s refused: %s", item->peer,
				  revoked ? "host of a revoked device" :
				  cap	  ? "the secret's device cap is reached" :
					    "unknown, expired or revoked secret");
			item_reply_text(item, revoked || cap ? 403 : 401,
					revoked ? "this host belongs to a revoked device; an "
						  "administrator must allow it back" :
					cap	? "this enrollment secret has enrolled its maximum "
						  "number of devices" :
						  "enrollment secret not accepted",
					0);
		} else {
			bool retry = status == -ECONNRESET || status == -ECANCELED ||
				     db_retryable(job->sqlstate);
			log_warnx("could not enroll a device: %s (SQLSTATE %s)", job->message,
				  job->sqlstate[0] ? job->sqlstate : "none");
			item_reply_text(item, retry ? 503 : 500, "could not enroll",
					retry ? RETRY_AFTER_DB : 0);
		}
		goto done;
	}
	if (r == NULL || PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
		item_reply_text(item, 500, "could not enroll", 0);
		goto done;
	}
	if (!PQgetisnull(r, 0, 1)) {
		const char *v = PQgetvalue(r, 0, 1);
		if (strncmp(v, "\\x", 2) != 0 || hex_decode(v + 2, key, sizeof(key), &key_len) < 0) {
			item_reply_text(item, 500, "bad project label key", 0);
			goto done;
		}
	}
	resp.device_id = PQgetvalue(r, 0, 0);
	resp.device_token = item->token;
	resp.project_label_key.data = key;
	resp.project_label_key.len = key_len;
	len = aimeter__v1__enroll_response__get_packed_size(&resp);
	buf = malloc(len ? len : 1);
	if (buf == NULL) {
		item_reply_text(item, 503, "out of memory", RETRY_AFTER_BUSY);
		goto done;
	}
	aimeter__v1__enroll_response__pack(&resp, buf);
	log_info("enrolled device %s", PQgetvalue(r, 0, 0));
	reply(item, 200, "application/x-protobuf", buf, len, 0);
	OPENSSL_cleanse(buf, len);
	free(buf);
done:
	OPENSSL_cleanse(key, sizeof(key));
	db_job_clear(job);
	item_free(item);
	collector_maybe_finish(ing->col);
}

/* Strength as aimeterctl and the database estimate it: hex 4 bits a character, else 6. */
static unsigned
secret_bits(const char *secret)
{
	size_t n = strlen(secret);

	return (unsigned)(strspn(secret, "0123456789abcdefABCDEF") == n ? 4 * n : 6 * n);
}

/* A string a device sends about itself: bounded, UTF-8, no C0/C1 control. */
static bool
device_string_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	return n <= 255 && utf8_valid(s) && !am_control_character((const uint8_t *)s, n);
}

void
ingest_enroll(struct ingest *ing, struct conn *c)
{
	struct collector *col = ing->col;
	struct http_request *req = &c->req;
	Aimeter__V1__EnrollRequest *er;
	struct ingest_item *item;
	uint8_t rnd[32];

	if (!enroll_allowed(ing, c->peer)) {
		col->metrics.enroll_limited++;
		reply_text(c, 429, "too many enrollment attempts from this address, retry later",
			   INGEST_ENROLL_RETRY_S);
		return;
	}
	if (!media_type_is(req->content_type, "application/x-protobuf")) {
		reply_text(c, 415, "Content-Type must be application/x-protobuf", 0);
		return;
	}
	if (req->content_encoding[0] != '\0' && strcasecmp(req->content_encoding, "identity") != 0) {
		reply_text(c, 415, "enrollment requests are not compressed", 0);
		return;
	}
	er = aimeter__v1__enroll_request__unpack(NULL, req->body_len, req->body);
	if (er == NULL) {
		reply_text(c, 400, "not an EnrollRequest", 0);
		return;
	}
	if (er->enrollment_secret == NULL || er->enrollment_secret[0] == '\0') {
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		col->metrics.enroll_failures++;
		log_warnx("enrollment from %s refused: no secret", c->peer);
		reply_text(c, 401, "enrollment secret missing", 0);
		return;
	}
	if (secret_bits(er->enrollment_secret) < INGEST_SECRET_MIN_BITS) {
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		col->metrics.enroll_failures++;
		log_warnx("enrollment from %s refused: secret shorter than %d bits", c->peer,
			  INGEST_SECRET_MIN_BITS);
		reply_text(c, 400,
			   "enrollment secret too short: at least 128 bits are required "
			   "(32 hex digits or 22 other characters)",
			   0);
		return;
	}
	if (!device_string_ok(er->hostname) || !device_string_ok(er->os) ||
	    !device_string_ok(er->agent_version) || !device_string_ok(er->team_hint)) {
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		log_warnx("enrollment from %s refused: bad hostname, os, agent_version or team_hint",
			  c->peer);
		reply_text(c, 400,
			   "hostname, os, agent_version or team_hint too long, not UTF-8 or holding "
			   "a control character",
			   0);
		return;
	}
	if (!db_ready(&col->db) || col->stopping) {
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		reply_text(c, 503, "database unavailable, retry later", RETRY_AFTER_DB);
		return;
	}
	item = calloc(1, sizeof(*item));
	if (item == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1) {
		free(item);
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		reply_text(c, 503, "could not make a token", RETRY_AFTER_BUSY);
		return;
	}
	item->ing = ing;
	item->kind = ITEM_ENROLL;
	item->enroll = er;
	item->conn = c;
	item->start_ns = c->request_ns;
	snprintf(item->peer, sizeof(item->peer), "%s", c->peer);
	SHA256((const unsigned char *)er->enrollment_secret, strlen(er->enrollment_secret),
	       item->secret_hash);
	hex_encode(rnd, sizeof(rnd), item->token); /* 64 digits and the NUL */
	OPENSSL_cleanse(rnd, sizeof(rnd));
	SHA256((const unsigned char *)item->token, 64, item->new_token_hash);
	item->values[0] = (const char *)item->secret_hash;
	item->lengths[0] = 32;
	item->formats[0] = 1;
	item->values[1] = er->hostname;
	item->values[2] = er->os;
	item->values[3] = er->agent_version;
	item->values[4] = (const char *)item->new_token_hash;
	item->lengths[4] = 32;
	item->formats[4] = 1;
	item->cmd = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = enroll_sql, .nparams = 5,
				     .values = item->values, .lengths = item->lengths,
				     .formats = item->formats };
	item->job = (struct db_job){ .cmds = &item->cmd, .ncmds = 1, .done = enroll_done,
				     .data = item };
	c->item = item;
	enqueue(ing, item, false);
	db_kick(&col->db);
}

/* ---- setup ------------------------------------------------------------------ */

/* A secret revoked with aimeterctl enroll-token revoke stays revoked (0005). */
static const char register_sql[] =
	"SELECT aimeter.register_enrollment_secret($1, 'collector [enrollment] secret_file', "
	"$2::int)";

static void
register_done(struct db_job *job, int status)
{
	struct ingest_item *item = job->data;
	struct ingest *ing = item->ing;

	ing->in_flight--;
	if (status < 0) {
		log_warnx("could not register the enrollment secret of [enrollment] secret_file: %s "
			  "(SQLSTATE %s); register it in aimeter.enrollment_secrets as an "
			  "administrator, ignoring",
			  job->message, job->sqlstate[0] ? job->sqlstate : "none");
	} else {
		log_debug("enrollment secret of [enrollment] secret_file registered");
	}
	db_job_clear(job);
	item_free(item);
	collector_maybe_finish(ing->col);
}

void
ingest_register_secret(struct ingest *ing)
{
	struct ingest_item *item;

	if (!ing->have_secret) {
		return;
	}
	item = calloc(1, sizeof(*item));
	if (item == NULL) {
		log_warnx("could not register the enrollment secret: out of memory, ignoring");
		return;
	}
	item->ing = ing;
	item->kind = ITEM_REGISTER;
	memcpy(item->secret_hash, ing->secret_hash, 32);
	item->values[0] = (const char *)item->secret_hash;
	item->lengths[0] = 32;
	item->formats[0] = 1;
	snprintf(item->bits, sizeof(item->bits), "%d", ing->secret_bits);
	item->values[1] = item->bits;
	item->cmd = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = register_sql, .nparams = 2,
				     .values = item->values, .lengths = item->lengths,
				     .formats = item->formats };
	item->job = (struct db_job){ .cmds = &item->cmd, .ncmds = 1, .done = register_done,
				     .data = item };
	enqueue(ing, item, false);
	db_kick(&ing->col->db);
}

void
ingest_init(struct ingest *ing, struct collector *col)
{
	memset(ing, 0, sizeof(*ing));
	ing->col = col;
}

static int
read_secret(const char *path, uint8_t ret_hash[32], int *ret_bits)
{
	char err[512], buf[1024];
	size_t n;

	if (secret_file_read(path, "secret file", buf, sizeof(buf) - 1, &n, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
		n--;
	}
	buf[n] = '\0';
	if (secret_bits(buf) < INGEST_SECRET_MIN_BITS) {
		log_warnx("enrollment secret file \"%s\" holds a secret shorter than %d bits "
			  "(32 hex digits or 22 other characters)",
			  path, INGEST_SECRET_MIN_BITS);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	*ret_bits = secret_bits(buf);
	SHA256((const unsigned char *)buf, n, ret_hash);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int
ingest_load_secrets(struct ingest *ing, const struct config *cfg)
{
	uint8_t key[256], hash[32];
	size_t key_len = 0;
	int bits = 0;
	char err[512];

	if (cfg->person_key_file != NULL &&
	    identity_key_load(cfg->person_key_file, key, &key_len, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	if (cfg->enrollment_secret_file != NULL && read_secret(cfg->enrollment_secret_file, hash, &bits) < 0) {
		OPENSSL_cleanse(key, sizeof(key));
		return -1;
	}
	memcpy(ing->person_key, key, key_len);
	ing->person_key_len = key_len;
	ing->have_secret = cfg->enrollment_secret_file != NULL;
	if (ing->have_secret) {
		memcpy(ing->secret_hash, hash, sizeof(hash));
		ing->secret_bits = bits;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}
