/*
 * ingest.c: `aimeterctl ingest FILE|-`: events as `aimeter-agent scan
 * --format jsonl` prints them, written through the same write path as the
 * collector's (writepath.h, aimeter.ingest_staged()).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "hex.h"
#include "import.h"
#include "options.h"
#include "timestamp.h"
#include "writepath.h"

/* Events per transaction: big enough to amortise, small enough to bound memory. */
#define INGEST_CHUNK 5000
#define INGEST_BUF_MAX (64u << 20)

struct totals {
	long inserted, duplicates, rejected, malformed, events, actions_skipped;
};

struct chunk {
	struct writepath_buf batch, events;
	unsigned lines[INGEST_CHUNK]; /* input line of each ord */
	int n;
	unsigned index;
};

static const char *
get_str(json_t *o, const char *key, int *bad)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		return "";
	}
	if (!json_is_string(v)) {
		*bad = 1;
		return "";
	}
	return json_string_value(v);
}

static uint64_t
get_count(json_t *o, const char *key, int *bad)
{
	json_t *v = json_object_get(o, key);
	json_int_t n;

	if (v == NULL || json_is_null(v)) {
		return 0;
	}
	if (!json_is_integer(v)) {
		*bad = 1;
		return 0;
	}
	n = json_integer_value(v);
	/* Negative: past INT64_MAX, so the formatter writes -1 (negative_count). */
	return n < 0 ? UINT64_MAX : (uint64_t)n;
}

/*
 * parse_line(...): one JSON line into ev (strings borrowed from root). 0, or -1
 * with a message.
 */
static int
parse_line(json_t *root, am_usage_event *ev, uint8_t id[16], char *err, size_t err_size)
{
	const char *hex, *ts, *mode;
	size_t id_len;
	int bad = 0;

	aimeter__v1__usage_event__init(ev);
	if (!json_is_object(root)) {
		snprintf(err, err_size, "not a JSON object");
		return -1;
	}
	hex = get_str(root, "event_id", &bad);
	if (strlen(hex) != 32) {
		snprintf(err, err_size, "event_id is not 32 hex digits");
		return -1;
	}
	if (hex_decode(hex, id, 16, &id_len) < 0) {
		snprintf(err, err_size, "event_id is not 32 hex digits");
		return -1;
	}
	ev->event_id.data = id;
	ev->event_id.len = 16;
	ts = get_str(root, "ts", &bad);
	if (ts_parse_ms(ts, &ev->ts_ms) < 0) {
		snprintf(err, err_size, "ts is not YYYY-MM-DDTHH:MM:SS.mmmZ");
		return -1;
	}
	ev->tool = (char *)get_str(root, "tool", &bad);
	ev->model = (char *)get_str(root, "model", &bad);
	ev->session = (char *)get_str(root, "session", &bad);
	ev->project = (char *)get_str(root, "project", &bad);
	ev->user = (char *)get_str(root, "user", &bad);
	ev->team_hint = (char *)get_str(root, "team_hint", &bad);
	ev->speed = (char *)get_str(root, "speed", &bad);
	ev->service_tier = (char *)get_str(root, "service_tier", &bad);
	mode = get_str(root, "billing_mode", &bad);
	ev->billing_mode = strcmp(mode, "subscription") == 0 ? 1 :
			   strcmp(mode, "api") == 0	     ? 2 :
			   strcmp(mode, "cloud") == 0	     ? 3 :
							       0;
	ev->input_tokens = get_count(root, "input_tokens", &bad);
	ev->output_tokens = get_count(root, "output_tokens", &bad);
	ev->cache_write_5m_tokens = get_count(root, "cache_write_5m_tokens", &bad);
	ev->cache_write_1h_tokens = get_count(root, "cache_write_1h_tokens", &bad);
	ev->cache_read_tokens = get_count(root, "cache_read_tokens", &bad);
	ev->reasoning_tokens = get_count(root, "reasoning_tokens", &bad);
	ev->web_search_requests = get_count(root, "web_search_requests", &bad);
	if (bad) {
		snprintf(err, err_size, "a field has the wrong JSON type");
		return -1;
	}
	return 0;
}

/* One transaction: stage, ingest_staged(), commit. */
static int
send_chunk(PGconn *conn, const char *path, struct chunk *ck, struct totals *t)
{
	PGresult *r;
	json_t *rej;
	json_error_t jerr;

	if (ck->n == 0) {
		return 0;
	}
	if (ctl_exec(conn, "BEGIN") < 0 ||
	    ctl_copy(conn, WRITEPATH_SQL_COPY_BATCH, ck->batch.data, ck->batch.len) < 0 ||
	    ctl_copy(conn, WRITEPATH_SQL_COPY_EVENTS, ck->events.data, ck->events.len) < 0) {
		goto fail;
	}
	r = ctl_query(conn, WRITEPATH_SQL_INGEST, 0, NULL);
	if (r == NULL) {
		goto fail;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		t->inserted += strtol(PQgetvalue(r, i, 1), NULL, 10);
		t->duplicates += strtol(PQgetvalue(r, i, 2), NULL, 10);
		t->rejected += strtol(PQgetvalue(r, i, 3), NULL, 10);
		rej = json_loads(PQgetvalue(r, i, 4), 0, &jerr);
		for (size_t k = 0; rej != NULL && k < json_array_size(rej); k++) {
			json_t *o = json_array_get(rej, k);
			json_int_t ord = json_integer_value(json_object_get(o, "ord"));
			const char *why = json_string_value(json_object_get(o, "reason"));

			if (ord >= 0 && ord < ck->n) {
				fprintf(stderr, "%s:%u: event rejected: %s\n", path,
					ck->lines[ord], why != NULL ? why : "?");
			}
		}
		json_decref(rej);
	}
	PQclear(r);
	if (ctl_exec(conn, "COMMIT") < 0) {
		goto fail;
	}
	writepath_buf_reset(&ck->batch);
	writepath_buf_reset(&ck->events);
	ck->n = 0;
	ck->index++;
	return 0;
fail:
	/* The transaction is lost either way; the error above says why. */
	(void)ctl_exec(conn, "ROLLBACK");
	return -1;
}

/* The batch id of a chunk: stable across replays of the same file. */
static void
chunk_batch_id(const unsigned char digest[32], unsigned index, uint8_t ret_id[16])
{
	memcpy(ret_id, digest, 16);
	ret_id[12] ^= (uint8_t)(index >> 24);
	ret_id[13] ^= (uint8_t)(index >> 16);
	ret_id[14] ^= (uint8_t)(index >> 8);
	ret_id[15] ^= (uint8_t)index;
}

static int
ingest_buffer(PGconn *conn, const struct ctl_opts *opts, const char *path, char *buf, size_t len,
	      struct totals *t)
{
	unsigned char digest[32];
	unsigned int dlen = 0;
	uint8_t key[256], mac[32], id[16], bid[16];
	size_t key_len = 0;
	int have_key = 0, rc = -1;
	unsigned line = 0;
	struct chunk *ck = calloc(1, sizeof(*ck));
	char *p = buf, *end = buf + len;

	if (ck == NULL) {
		fprintf(stderr, "aimeterctl: out of memory\n");
		return -1;
	}
	writepath_buf_init(&ck->batch, 4096);
	writepath_buf_init(&ck->events, INGEST_BUF_MAX);
	EVP_Digest(buf, len, digest, &dlen, EVP_sha256(), NULL);
	if (ctl_exec(conn, WRITEPATH_SQL_CREATE_STAGE) < 0) {
		goto out;
	}
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), err[128];
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		am_usage_event ev;
		json_error_t jerr;
		json_t *root;
		int fr;

		line++;
		if (n > 0 && p[n - 1] == '\r') {
			p[n - 1] = '\0';
		}
		p[n] = '\0';
		if (strspn(p, " \t\r") == strlen(p)) {
			p += n + 1;
			continue;
		}
		root = json_loads(p, JSON_REJECT_DUPLICATES, &jerr);
		p += n + 1;
		if (root == NULL) {
			fprintf(stderr, "%s:%u: malformed event: %s\n", path, line, jerr.text);
			t->malformed++;
			continue;
		}
		/* Action records (docs/actions.md) reach the database through the
		 * collector only; here they are skipped, not malformed. */
		if (json_is_object(root) &&
		    json_is_string(json_object_get(root, "record")) &&
		    strcmp(json_string_value(json_object_get(root, "record")), "action") == 0) {
			t->actions_skipped++;
			json_decref(root);
			continue;
		}
		if (parse_line(root, &ev, id, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s:%u: malformed event: %s\n", path, line, err);
			t->malformed++;
			json_decref(root);
			continue;
		}
		if (ev.user[0] != '\0' && !have_key) {
			if (ctl_person_key(opts, key, &key_len) < 0) {
				json_decref(root);
				goto out;
			}
			have_key = 1;
		}
		if (ev.user[0] != '\0' && identity_hmac(key, key_len, ev.user, mac) < 0) {
			fprintf(stderr, "%s:%u: malformed event: user identity too long\n", path,
				line);
			t->malformed++;
			json_decref(root);
			continue;
		}
		if (ck->n == 0) {
			chunk_batch_id(digest, ck->index, bid);
			/* events_sent is filled in by ingest_staged from the rows. */
			fr = writepath_format_batch(&ck->batch, 0, NULL, bid, sizeof(bid), 0, 0);
			if (fr < 0) {
				json_decref(root);
				goto nobuf;
			}
		}
		fr = writepath_format_event(&ck->events, 0, ck->n, &ev,
					    ev.user[0] != '\0' ? mac : NULL, NULL, NULL);
		json_decref(root);
		if (fr < 0) {
			goto nobuf;
		}
		ck->lines[ck->n++] = line;
		t->events++;
		if (ck->n == INGEST_CHUNK && send_chunk(conn, path, ck, t) < 0) {
			goto out;
		}
	}
	if (send_chunk(conn, path, ck, t) < 0) {
		goto out;
	}
	rc = 0;
	goto out;
nobuf:
	fprintf(stderr, "%s:%u: event does not fit the staging buffer\n", path, line);
out:
	/* events_sent of each chunk's batch row: the rows ingest_staged counted. */
	writepath_buf_finish(&ck->batch);
	writepath_buf_finish(&ck->events);
	free(ck);
	return rc;
}

static const char help[] =
	"usage: aimeterctl ingest [options] FILE|-\n\n"
	"Loads usage events, one JSON object a line, exactly as\n"
	"`aimeter-agent scan --format jsonl` prints them, through the\n"
	"collector's write path: duplicates are dropped by event id,\n"
	"invalid events are rejected with a reason (aimeterctl report\n"
	"rejected) and the rest goes in. Identities are hashed with the\n"
	"person key. Prints inserted, duplicate and rejected counts.\n\n"
	"options:\n" CTL_COMMON_HELP;

int
cmd_ingest(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const struct options_spec spec = { help, NULL, NULL, 1, false };
	struct totals t = { 0 };
	struct import im;
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "aimeterctl: ingest needs one FILE (or - for stdin); see --help\n");
		return CTL_USAGE;
	}
	if (import_open(&im, &opts, argv[optind]) < 0) {
		import_close(&im);
		return CTL_FAIL;
	}
	rc = ingest_buffer(im.conn, &opts, im.path, im.buf, im.len, &t);
	import_close(&im);
	printf("inserted %ld, duplicates %ld, rejected %ld\n", t.inserted, t.duplicates,
	       t.rejected + t.malformed);
	if (t.actions_skipped > 0) {
		fprintf(stderr, "aimeterctl: skipped %ld action records; they reach the database "
				"through the collector\n", t.actions_skipped);
	}
	if (rc < 0 || t.events == 0) {
		return CTL_FAIL;
	}
	return CTL_OK;
}
