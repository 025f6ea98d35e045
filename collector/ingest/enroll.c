/*
 * enroll.c: POST /v1/enroll, the [enrollment] secret_file and its
 * registration in the database, the person key; see ingest.h.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "hex.h"
#include "ingest.h"
#include "item.h"
#include "log.h"
#include "metrics.h"
#include "secret-file.h"

#define INGEST_ENROLL_RETRY_S 5

static const char enroll_sql[] =
	"SELECT aimeter.enroll_device($1, $2, $3, $4, $5)::text,"
	" (SELECT project_label_key FROM aimeter.settings LIMIT 1)";

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
			ing->metrics->enroll_failures++;
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
			bool retry = db_job_retryable(job, status);
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
	/* as acks say it: an agent's first batch may carry request ids */
	resp.max_schema_version = ing->max_schema > AM_SCHEMA_VERSION ? ing->max_schema : 0;
	len = aimeter__v1__enroll_response__get_packed_size(&resp);
	buf = malloc(len ? len : 1);
	if (buf == NULL) {
		item_reply_text(item, 503, "out of memory", RETRY_AFTER_BUSY);
		goto done;
	}
	aimeter__v1__enroll_response__pack(&resp, buf);
	log_info("enrolled device %s", PQgetvalue(r, 0, 0));
	item_reply(item, 200, "application/x-protobuf", buf, len, 0);
	OPENSSL_cleanse(buf, len);
	free(buf);
done:
	OPENSSL_cleanse(key, sizeof(key));
	db_job_clear(job);
	item_free(item);
	item_done(ing);
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

void *
ingest_enroll(void *owner, const struct request *req, reply_fn reply, void *reply_arg)
{
	struct ingest *ing = owner;
	Aimeter__V1__EnrollRequest *er;
	struct ingest_item *item;
	uint8_t rnd[32];

	if (!ratelimit_take(&ing->enroll_limit, req->peer, item_now_ns())) {
		ing->metrics->enroll_limited++;
		item_reply_now(reply, reply_arg, 429, "too many enrollment attempts from this address, retry later",
			   INGEST_ENROLL_RETRY_S);
		return NULL;
	}
	if (!request_media_type_is(req->content_type, "application/x-protobuf")) {
		item_reply_now(reply, reply_arg, 415, "Content-Type must be application/x-protobuf", 0);
		return NULL;
	}
	if (req->content_encoding[0] != '\0' && strcasecmp(req->content_encoding, "identity") != 0) {
		item_reply_now(reply, reply_arg, 415, "enrollment requests are not compressed", 0);
		return NULL;
	}
	er = aimeter__v1__enroll_request__unpack(NULL, req->body_len, req->body);
	if (er == NULL) {
		item_reply_now(reply, reply_arg, 400, "not an EnrollRequest", 0);
		return NULL;
	}
	if (er->enrollment_secret == NULL || er->enrollment_secret[0] == '\0') {
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		ing->metrics->enroll_failures++;
		log_warnx("enrollment from %s refused: no secret", req->peer);
		item_reply_now(reply, reply_arg, 401, "enrollment secret missing", 0);
		return NULL;
	}
	if (secret_bits(er->enrollment_secret) < INGEST_SECRET_MIN_BITS) {
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		ing->metrics->enroll_failures++;
		log_warnx("enrollment from %s refused: secret shorter than %d bits", req->peer,
			  INGEST_SECRET_MIN_BITS);
		item_reply_now(reply, reply_arg, 400,
			   "enrollment secret too short: at least 128 bits are required "
			   "(32 hex digits or 22 other characters)",
			   0);
		return NULL;
	}
	if (!device_string_ok(er->hostname) || !device_string_ok(er->os) ||
	    !device_string_ok(er->agent_version) || !device_string_ok(er->team_hint)) {
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		log_warnx("enrollment from %s refused: bad hostname, os, agent_version or team_hint",
			  req->peer);
		item_reply_now(reply, reply_arg, 400,
			   "hostname, os, agent_version or team_hint too long, not UTF-8 or holding "
			   "a control character",
			   0);
		return NULL;
	}
	if (!db_ready(ing->db) || ing->stopping) {
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		item_reply_now(reply, reply_arg, 503, "database unavailable, retry later", RETRY_AFTER_DB);
		return NULL;
	}
	item = calloc(1, sizeof(*item));
	if (item == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1) {
		free(item);
		aimeter__v1__enroll_request__free_unpacked(er, NULL);
		item_reply_now(reply, reply_arg, 503, "could not make a token", RETRY_AFTER_BUSY);
		return NULL;
	}
	item->ing = ing;
	item->kind = ITEM_ENROLL;
	item->enroll = er;
	item->reply = reply;
	item->reply_arg = reply_arg;
	item->start_ns = req->received_ns;
	snprintf(item->peer, sizeof(item->peer), "%s", req->peer);
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
	item_push(ing, item);
	db_kick(ing->db);
	return item;
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
	item_done(ing);
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
	item_push(ing, item);
	db_kick(ing->db);
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
