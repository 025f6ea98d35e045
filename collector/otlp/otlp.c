/*
 * otlp.c: one OTLP/HTTP request from the handler to its answer: token
 * lookup, decode on the threadpool, the write transaction; see otlp.h.
 */
#include "otlp.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "actions.h"
#include "config.h"
#include "hex.h"
#include "identity.h"
#include "ingest.h"
#include "log.h"
#include "macros.h"
#include "writetx.h"

#define RETRY_AFTER_BUSY 1
#define RETRY_AFTER_DB 2
#define RETRY_AFTER_AUTHFAIL 10
#define AUTHFAIL_BURST 20
#define AUTHFAIL_PER_SEC 1
#define BATCH_BUF_MAX (1u << 16)
#define EVENT_BUF_MAX (64u << 20)

#define POINTS_SQL "SELECT aimeter.ingest_otlp_points($1::jsonb)"

static const char auth_sql[] =
	"SELECT coalesce(team_hint, '') FROM aimeter.otlp_tokens WHERE token_hash = $1"
	" AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())";

enum req_stage { REQ_AUTH, REQ_DECODE, REQ_WRITE, REQ_POINTS, REQ_STAGE_MAX };

struct otlp_req {
	struct otlp_req *next;
	struct otlp *o;
	enum otlp_signal signal;
	enum otlp_encoding enc;
	enum req_stage stage;
	bool gzip;
	bool queued;         /* in o->head's list */
	bool decode_waiting; /* in o->decode_head's list */
	reply_fn reply;      /* NULL once answered or cancelled */
	void *reply_arg;
	uint8_t *body; /* owned copy; freed once decoded */
	size_t body_len;
	uint8_t token_hash[32];
	char team[128];
	char peer[64];
	const char *values[1];
	int lengths[1], formats[1];
	struct db_cmd cmd;
	struct db_job job;
	uv_work_t work;
	struct otlp_limits lim;
	int decode_rc;
	struct otlp_result res;
	struct writetx tx;
	struct writepath_buf batches, events, requests;
	uint64_t db_rejected;
	/* tool calls: aimeter.ingest_actions(), in the calls' write transaction */
	char *actions_json;
	const char *actions_value[1];
	struct db_cmd actions_cmd;
	/* metrics, or tool calls alone: one statement in its own transaction */
	char *points_json;
	const char *points_value[1];
	struct db_cmd points_cmds[3];
	struct db_job points_job;
};

static uint64_t
now_ns(void)
{
	return uv_hrtime();
}

static void
req_free(struct otlp_req *q)
{
	if (q == NULL) {
		return;
	}
	free(q->body);
	otlp_result_finish(&q->res);
	writepath_buf_finish(&q->batches);
	writepath_buf_finish(&q->events);
	writepath_buf_finish(&q->requests);
	free(q->points_json);
	free(q->actions_json);
	free(q);
}

/* A request ended (answered or dropped): free it and tell the owner. */
static void
req_end(struct otlp_req *q)
{
	struct otlp *o = q->o;

	o->pending--;
	req_free(q);
	if (o->idle_cb != NULL) {
		o->idle_cb(o->idle_arg);
	}
}

static const char *
content_type_of(enum otlp_encoding enc)
{
	return enc == OTLP_JSON ? "application/json" : "application/x-protobuf";
}

/* A failure: google.rpc.Status in the request's encoding. */
static void
reply_status(reply_fn reply, void *arg, enum otlp_encoding enc, int http, const char *msg,
	     unsigned retry_after)
{
	uint8_t *buf;
	size_t len;

	if (reply == NULL) {
		return;
	}
	if (otlp_status(enc, http == 400 ? 3 : http == 401 ? 16 : 14, msg, &buf, &len) < 0) {
		reply(arg, 503, "text/plain; charset=utf-8", "out of memory\n", 14, RETRY_AFTER_BUSY);
		return;
	}
	reply(arg, http, content_type_of(enc), buf, len, retry_after);
	free(buf);
}

static void
req_fail(struct otlp_req *q, int http, const char *msg, unsigned retry_after)
{
	reply_status(q->reply, q->reply_arg, q->enc, http, msg, retry_after);
	q->reply = NULL;
}

static void
req_success(struct otlp_req *q, uint64_t rejected, const char *msg)
{
	uint8_t *buf;
	size_t len;

	if (q->reply == NULL) {
		return;
	}
	if (otlp_response(q->signal, q->enc, rejected, msg, &buf, &len) < 0) {
		req_fail(q, 503, "out of memory", RETRY_AFTER_BUSY);
		return;
	}
	q->reply(q->reply_arg, 200, content_type_of(q->enc), buf, len, 0);
	q->reply = NULL;
	free(buf);
}

static void
push(struct otlp *o, struct otlp_req *q)
{
	q->queued = true;
	q->next = NULL;
	if (o->tail != NULL) {
		o->tail->next = q;
	} else {
		o->head = q;
	}
	o->tail = q;
	db_kick(o->db);
}

/* Take q out of a singly linked list with a tail; nothing if not there. */
static void
unlink_from(struct otlp_req **head, struct otlp_req **tail, struct otlp_req *q)
{
	struct otlp_req **pp = head, *prev = NULL;

	while (*pp != NULL && *pp != q) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL) {
		return;
	}
	*pp = q->next;
	if (*tail == q) {
		*tail = prev;
	}
	q->next = NULL;
}

/* ---- the write transaction -------------------------------------------------- */

static void
write_done(struct db_job *job, int status)
{
	struct otlp_req *q = job->data;
	struct otlp *o = q->o;
	PGresult *r = status == 0 ? writetx_result(job) : NULL;

	o->in_flight--;
	if (status == 0 && (r == NULL || PQntuples(r) < 1 || PQnfields(r) < 4)) {
		log_warnx("OTLP: unexpected result of aimeter.ingest_staged()");
		status = -EPROTO;
	}
	if (status < 0) {
		bool retry = db_job_retryable(job, status);
		log_warnx("OTLP: could not write %zu calls: %s (SQLSTATE %s)", q->res.n_calls,
			  job->message[0] ? job->message : strerror(-status),
			  job->sqlstate[0] ? job->sqlstate : "none");
		req_fail(q, retry ? 503 : 500,
			 retry ? "database unavailable, retry later" : "could not write",
			 retry ? RETRY_AFTER_DB : 0);
	} else {
		uint64_t inserted = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
		uint64_t dup = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
		uint64_t rej = strtoull(PQgetvalue(r, 0, 3), NULL, 10);

		o->calls_inserted += inserted;
		o->calls_duplicate += dup;
		o->rejected += rej;
		q->db_rejected = rej;
		req_success(q, q->res.rejected + rej,
			    q->res.rejected + rej > 0 ? "records aimeter cannot count" : NULL);
	}
	db_job_clear(job);
	req_end(q);
}

/* The calls as usage events, into the staging rows of one batch. */
static int
stage_calls(struct otlp_req *q)
{
	const struct ingest *ing = q->o->ingest;
	size_t n = q->res.n_calls;
	am_usage_event *ev = calloc(n, sizeof(*ev));
	am_usage_event **evp = calloc(n, sizeof(*evp));
	am_batch batch = AIMETER__V1__BATCH__INIT;
	int r = -ENOMEM;

	if (ev == NULL || evp == NULL) {
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct otlp_call *c = &q->res.calls[i];

		aimeter__v1__usage_event__init(&ev[i]);
		ev[i].event_id = (ProtobufCBinaryData){ .len = 16, .data = (uint8_t *)c->event_id };
		ev[i].ts_ms = c->ts_ms;
		ev[i].tool = (char *)c->tool;
		ev[i].model = (char *)c->model;
		ev[i].session = (char *)c->session;
		ev[i].user = (char *)c->user;
		/* The token's team wins over anything the sender claims. */
		ev[i].team_hint = q->team;
		ev[i].input_tokens = c->input;
		ev[i].output_tokens = c->output;
		/* OTLP has no 5m/1h split: Claude Code's default cache TTL is 5m; the
		 * other tools do not split their cache writes either. */
		ev[i].cache_write_5m_tokens = c->cache_creation;
		ev[i].cache_read_tokens = c->cache_read;
		ev[i].speed = (char *)c->speed;
		/* an id that is not a plain token matches nothing: the call counts on its own */
		if (am_request_id_valid(c->request_id)) {
			ev[i].request_id = (char *)c->request_id;
		}
		evp[i] = &ev[i];
	}
	batch.events = evp;
	batch.n_events = n;
	writepath_buf_init(&q->batches, BATCH_BUF_MAX);
	writepath_buf_init(&q->events, EVENT_BUF_MAX);
	writepath_buf_init(&q->requests, EVENT_BUF_MAX);
	r = writepath_format_batch(&q->batches, 0, NULL, NULL, 0, n, 0);
	if (r == 0) {
		r = ingest_format_events(ing->person_key, ing->person_key_len, NULL, &batch, NULL,
					 0, &q->events);
	}
	if (r == 0) {
		r = ingest_format_requests(&batch, NULL, 0, &q->requests);
	}
out:
	free(ev);
	free(evp);
	return r;
}

/* ---- metric counters ---------------------------------------------------------- */

static void
points_done(struct db_job *job, int status)
{
	struct otlp_req *q = job->data;
	struct otlp *o = q->o;

	o->in_flight--;
	if (status < 0) {
		bool retry = db_job_retryable(job, status);
		log_warnx("OTLP: could not count %zu data points and %zu tool calls: %s "
			  "(SQLSTATE %s)", q->res.n_points, q->res.n_actions, job->message[0] ? job->message : strerror(-status),
			  job->sqlstate[0] ? job->sqlstate : "none");
		req_fail(q, retry ? 503 : 500,
			 retry ? "database unavailable, retry later" : "could not write",
			 retry ? RETRY_AFTER_DB : 0);
	} else {
		req_success(q, q->res.rejected,
			    q->res.rejected > 0 ? "data points aimeter cannot count" : NULL);
	}
	db_job_clear(job);
	req_end(q);
}

/* q->points_job: BEGIN, sql with the JSON rows (borrowed), COMMIT. */
static void
points_job_init(struct otlp_req *q, const char *sql, const char *rows)
{
	q->points_value[0] = rows;
	q->points_cmds[0] = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = "BEGIN" };
	q->points_cmds[1] = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = sql, .nparams = 1,
					     .values = q->points_value };
	q->points_cmds[2] =
		(struct db_cmd){ .kind = DB_CMD_QUERY, .sql = "COMMIT", .is_commit = true };
	q->points_job = (struct db_job){ .cmds = q->points_cmds, .ncmds = 3, .done = points_done,
					 .data = q };
}

/* The points as the JSON rows of aimeter.ingest_otlp_points(), identities hashed. */
static int
stage_points(struct otlp_req *q)
{
	const struct ingest *ing = q->o->ingest;
	json_t *rows = json_array();

	if (rows == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < q->res.n_points; i++) {
		const struct otlp_point *p = &q->res.points[i];
		uint8_t mac[AM_IDENTITY_HMAC_LEN];
		char series[65], user[65] = "", st[24], ts[24];

		hex_encode(p->series, sizeof(p->series), series);
		/* The raw identity never reaches a row: only its keyed hash. */
		if (p->user[0] != '\0' && ing->person_key_len > 0 &&
		    identity_hmac(ing->person_key, ing->person_key_len, p->user, mac) == 0) {
			hex_encode(mac, sizeof(mac), user);
		}
		snprintf(st, sizeof(st), "%llu", (unsigned long long)p->start_ns);
		snprintf(ts, sizeof(ts), "%llu", (unsigned long long)p->time_ns);
		if (json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:f}",
							  "s", series, "m", p->metric, "k",
							  p->kind, "u", user, "t", q->team,
							  "tool", p->tool, "c", p->cumulative,
							  "st", st, "ts", ts, "v", p->value)) < 0) {
			json_decref(rows);
			return -ENOMEM;
		}
	}
	q->points_json = json_dumps(rows, JSON_COMPACT);
	json_decref(rows);
	if (q->points_json == NULL) {
		return -ENOMEM;
	}
	points_job_init(q, POINTS_SQL, q->points_json);
	return 0;
}

/* ---- tool calls ----------------------------------------------------------------- */

/*
 * The tool calls as the JSON rows of aimeter.ingest_actions() (the agents'
 * format, collector/ingest/actions.c), identities hashed, the token's team
 * as their hint, into q->actions_json.
 */
static int
stage_actions(struct otlp_req *q)
{
	const struct ingest *ing = q->o->ingest;
	size_t n = q->res.n_actions, len = 0;
	am_action_record *rec = calloc(n, sizeof(*rec));
	am_action_record **recp = calloc(n, sizeof(*recp));
	am_batch batch = AIMETER__V1__BATCH__INIT;
	FILE *f = NULL;
	int first = 1, r = -ENOMEM;

	if (rec == NULL || recp == NULL) {
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct otlp_action *a = &q->res.actions[i];

		aimeter__v1__action_record__init(&rec[i]);
		rec[i].action_id = (ProtobufCBinaryData){ .len = 16, .data = (uint8_t *)a->action_id };
		rec[i].ts_ms = a->ts_ms;
		rec[i].tool = (char *)a->tool;
		rec[i].session = (char *)a->session;
		rec[i].user = (char *)a->user;
		rec[i].team_hint = q->team;
		rec[i].kind = (Aimeter__V1__ActionKind)a->kind;
		rec[i].tool_name = (char *)a->tool_name;
		rec[i].decision = (Aimeter__V1__ActionDecision)a->decision;
		recp[i] = &rec[i];
	}
	batch.actions = recp;
	batch.n_actions = n;
	f = open_memstream(&q->actions_json, &len);
	if (f == NULL) {
		goto out;
	}
	fputc('[', f);
	r = actions_format(f, &first, ing->person_key, ing->person_key_len, NULL, NULL, &batch,
			   NULL) < 0 ? -EIO : 0;
	fputc(']', f);
	if (fclose(f) != 0 && r == 0) {
		r = -ENOMEM;
	}
	q->actions_value[0] = q->actions_json;
	q->actions_cmd = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = ACTIONS_SQL_INGEST,
					  .nparams = 1, .values = q->actions_value };
out:
	free(rec);
	free(recp);
	return r;
}

/* ---- decoding, on the threadpool --------------------------------------------- */

static void decode_start(struct otlp *o, struct otlp_req *q);

static void
decode_work_cb(uv_work_t *w)
{
	struct otlp_req *q = container_of(w, struct otlp_req, work);

	q->decode_rc = otlp_decode(q->signal, q->enc, q->gzip, q->body, q->body_len, &q->lim,
				   &q->res);
	free(q->body);
	q->body = NULL;
}

static int
decode_http_status(enum otlp_error e)
{
	switch (e) {
	case OTLP_TOO_LARGE:
		return 413;
	case OTLP_NOMEM:
		return 503;
	default:
		return 400;
	}
}

static void
decode_after_cb(uv_work_t *w, int status)
{
	struct otlp_req *q = container_of(w, struct otlp_req, work);
	struct otlp *o = q->o;

	o->decoding--;
	while (o->decode_head != NULL && o->decoding < OTLP_DECODE_WORKERS) {
		struct otlp_req *next = o->decode_head;
		unlink_from(&o->decode_head, &o->decode_tail, next);
		next->decode_waiting = false;
		decode_start(o, next);
	}
	if (q->reply == NULL || status < 0) {
		goto end; /* the client went away; it retries */
	}
	if (o->closed) {
		req_fail(q, 503, "shutting down, retry later", RETRY_AFTER_DB);
		goto end;
	}
	if (q->decode_rc < 0) {
		int http = decode_http_status(q->res.error);
		log_info("OTLP request from %s refused: %s", q->peer, q->res.message);
		req_fail(q, http, q->res.message, http == 503 ? RETRY_AFTER_BUSY : 0);
		goto end;
	}
	o->records += q->res.records;
	o->rejected += q->res.rejected;
	if (q->res.n_points > 0) {
		if (stage_points(q) < 0) {
			req_fail(q, 503, "out of memory", RETRY_AFTER_BUSY);
			goto end;
		}
		q->stage = REQ_POINTS;
		push(o, q);
		return;
	}
	if (q->res.n_calls == 0 && q->res.n_actions == 0) {
		req_success(q, q->res.rejected,
			    q->res.rejected > 0 ? "records aimeter cannot count" : NULL);
		goto end;
	}
	if (q->res.n_actions > 0 && stage_actions(q) < 0) {
		req_fail(q, 503, "out of memory", RETRY_AFTER_BUSY);
		goto end;
	}
	if (q->res.n_calls == 0) {
		/* Tool calls alone: their statement in a transaction of its own. */
		points_job_init(q, ACTIONS_SQL_INGEST, q->actions_json);
		q->stage = REQ_POINTS;
		push(o, q);
		return;
	}
	if (stage_calls(q) < 0) {
		req_fail(q, 503, "out of memory", RETRY_AFTER_BUSY);
		goto end;
	}
	q->stage = REQ_WRITE;
	writetx_init(&q->tx, &q->batches, &q->events, false, write_done, q);
	if (q->res.n_actions > 0) {
		writetx_add_step(&q->tx, &q->actions_cmd); /* after the calls, before COMMIT */
	}
	writetx_add_requests(&q->tx, &q->requests);
	push(o, q);
	return;
end:
	req_end(q);
}

static void
decode_start(struct otlp *o, struct otlp_req *q)
{
	int r;

	q->stage = REQ_DECODE;
	if (o->decoding >= OTLP_DECODE_WORKERS) {
		q->decode_waiting = true;
		q->next = NULL;
		if (o->decode_tail != NULL) {
			o->decode_tail->next = q;
		} else {
			o->decode_head = q;
		}
		o->decode_tail = q;
		return;
	}
	r = uv_queue_work(o->loop, &q->work, decode_work_cb, decode_after_cb);
	if (r < 0) {
		log_warnx("OTLP: could not start decoding: %s", uv_strerror(r));
		req_fail(q, 503, "busy, retry later", RETRY_AFTER_BUSY);
		req_end(q);
		return;
	}
	o->decoding++;
}

/* ---- the token ---------------------------------------------------------------- */

static void
auth_done(struct db_job *job, int status)
{
	struct otlp_req *q = job->data;
	struct otlp *o = q->o;
	PGresult *r = job->cmds[0].result;

	o->in_flight--;
	if (status < 0) {
		bool retry = db_job_retryable(job, status);
		log_warnx("OTLP: could not look up a token: %s (SQLSTATE %s)", job->message,
			  job->sqlstate[0] ? job->sqlstate : "none");
		req_fail(q, retry ? 503 : 500, "could not check the token",
			 retry ? RETRY_AFTER_DB : 0);
	} else if (r == NULL || PQntuples(r) != 1) {
		/* The body was never decompressed. */
		ratelimit_charge(&o->authfail_limit, q->peer, now_ns());
		log_info("OTLP token from %s refused: unknown, expired or revoked", q->peer);
		req_fail(q, 401, "unknown, expired or revoked token", 0);
	} else if (q->reply != NULL) {
		snprintf(q->team, sizeof(q->team), "%s", PQgetvalue(r, 0, 0));
		db_job_clear(job);
		decode_start(o, q);
		return;
	}
	db_job_clear(job);
	req_end(q);
}

/* ---- the handler -------------------------------------------------------------- */

void *
otlp_submit(void *owner, const struct request *req, reply_fn reply, void *reply_arg)
{
	struct otlp_endpoint *ep = owner;
	struct otlp *o = ep->otlp;
	enum otlp_encoding enc;
	struct otlp_req *q;
	const char *token;
	bool gzip;

	if (request_media_type_is(req->content_type, "application/x-protobuf")) {
		enc = OTLP_PROTOBUF;
	} else if (request_media_type_is(req->content_type, "application/json")) {
		enc = OTLP_JSON;
	} else {
		static const char msg[] =
			"Content-Type must be application/x-protobuf or application/json\n";
		reply(reply_arg, 415, "text/plain; charset=utf-8", msg, sizeof(msg) - 1, 0);
		return NULL;
	}
	gzip = strcasecmp(req->content_encoding, "gzip") == 0;
	if (!gzip && req->content_encoding[0] != '\0' &&
	    strcasecmp(req->content_encoding, "identity") != 0) {
		reply_status(reply, reply_arg, enc, 415, "Content-Encoding must be gzip or none", 0);
		return NULL;
	}
	token = request_bearer_token(req->authorization);
	if (token == NULL) {
		reply_status(reply, reply_arg, enc, 401, "missing Authorization: Bearer token", 0);
		return NULL;
	}
	if (o->stopping || !db_ready(o->db)) {
		reply_status(reply, reply_arg, enc, 503, "unavailable, retry later", RETRY_AFTER_DB);
		return NULL;
	}
	if (o->pending >= OTLP_MAX_PENDING) {
		reply_status(reply, reply_arg, enc, 429, "busy, retry later", RETRY_AFTER_BUSY);
		return NULL;
	}
	if (!ratelimit_allowed(&o->authfail_limit, req->peer, now_ns())) {
		reply_status(reply, reply_arg, enc, 429,
			     "too many unknown tokens from this address, retry later",
			     RETRY_AFTER_AUTHFAIL);
		return NULL;
	}
	if (req->body_len > o->cfg->max_body_bytes) {
		reply_status(reply, reply_arg, enc, 413, "request body too large", 0);
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL || (q->body = malloc(req->body_len ? req->body_len : 1)) == NULL) {
		free(q);
		reply_status(reply, reply_arg, enc, 503, "out of memory", RETRY_AFTER_BUSY);
		return NULL;
	}
	/* A copy: a decode worker may read it after the connection is gone. */
	memcpy(q->body, req->body, req->body_len);
	q->body_len = req->body_len;
	q->o = o;
	q->signal = ep->signal;
	q->enc = enc;
	q->gzip = gzip;
	q->reply = reply;
	q->reply_arg = reply_arg;
	q->lim = otlp_default_limits;
	snprintf(q->peer, sizeof(q->peer), "%s", req->peer);
	SHA256((const unsigned char *)token, strlen(token), q->token_hash);
	q->stage = REQ_AUTH;
	q->values[0] = (const char *)q->token_hash;
	q->lengths[0] = 32;
	q->formats[0] = 1;
	q->cmd = (struct db_cmd){ .kind = DB_CMD_QUERY, .sql = auth_sql, .nparams = 1,
				  .values = q->values, .lengths = q->lengths,
				  .formats = q->formats };
	q->job = (struct db_job){ .cmds = &q->cmd, .ncmds = 1, .done = auth_done, .data = q };
	o->pending++;
	push(o, q);
	return q;
}

void
otlp_cancel(void *handle)
{
	struct otlp_req *q = handle;
	struct otlp *o = q->o;

	q->reply = NULL;
	if (q->queued) {
		/* Not started: drop it; the sender retries. */
		unlink_from(&o->head, &o->tail, q);
		req_end(q);
	} else if (q->decode_waiting) {
		unlink_from(&o->decode_head, &o->decode_tail, q);
		req_end(q);
	}
	/* Otherwise a worker or a connection has it; its callback drops it. */
}

/* ---- the module ----------------------------------------------------------------- */

struct db_job *
otlp_next_job(struct otlp *o)
{
	struct otlp_req *q = o->head;

	if (q == NULL) {
		return NULL;
	}
	unlink_from(&o->head, &o->tail, q);
	q->queued = false;
	o->in_flight++;
	return q->stage == REQ_AUTH ? &q->job : q->stage == REQ_POINTS ? &q->points_job : &q->tx.job;
}

void
otlp_init(struct otlp *o, uv_loop_t *loop, const struct config *cfg, struct db *db,
	  const struct ingest *ingest, void (*idle_cb)(void *arg), void *idle_arg)
{
	memset(o, 0, sizeof(*o));
	o->loop = loop;
	o->cfg = cfg;
	o->db = db;
	o->ingest = ingest;
	o->idle_cb = idle_cb;
	o->idle_arg = idle_arg;
	for (int s = 0; s < OTLP_SIGNAL_MAX; s++) {
		o->endpoints[s] = (struct otlp_endpoint){ .otlp = o, .signal = (enum otlp_signal)s };
	}
	ratelimit_init(&o->authfail_limit, AUTHFAIL_BURST, AUTHFAIL_PER_SEC);
}

void
otlp_set_config(struct otlp *o, const struct config *cfg)
{
	o->cfg = cfg;
}

void
otlp_stop(struct otlp *o)
{
	o->stopping = true;
}

bool
otlp_idle(const struct otlp *o)
{
	return o->pending == 0;
}

void
otlp_fail_queued(struct otlp *o)
{
	o->closed = true;
	while (o->decode_head != NULL) {
		struct otlp_req *q = o->decode_head;
		unlink_from(&o->decode_head, &o->decode_tail, q);
		q->decode_waiting = false;
		req_fail(q, 503, "shutting down, retry later", RETRY_AFTER_DB);
		req_end(q);
	}
	while (o->head != NULL) {
		struct otlp_req *q = o->head;
		unlink_from(&o->head, &o->tail, q);
		q->queued = false;
		req_fail(q, 503, "database unavailable, retry later", RETRY_AFTER_DB);
		req_end(q);
	}
}
