/*
 * test-collector-tool.c: protobuf and zstd for the collector's Python test
 * drivers, which have neither: make batches and enroll requests, read acks
 * and enroll responses, and write the same events as am_stage COPY rows for
 * the direct-SQL baseline of the benchmark.
 *
 * Events are a pure function of (seed, index), so a test can re-create a
 * batch byte for byte and know the truth without asking the collector.
 *
 * usage: test-collector-tool mkbatches DIR COUNT EVENTS SEED [SCHEMA]
 *        test-collector-tool ack FILE
 *        test-collector-tool enroll-req FILE SECRET HOSTNAME
 *        test-collector-tool enroll-resp FILE
 *        test-collector-tool copyrows DIR COUNT EVENTS SEED KEYFILE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "batch.h"
#include "event_id.h"
#include "identity.h"
#include "writepath.h"

static const char *const models[] = { "claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101",
				      "claude-haiku-4-5-20251001" };

static uint8_t *
slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (f == NULL) {
		fprintf(stderr, "could not open \"%s\": %s\n", path, strerror(errno));
		exit(1);
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (buf == NULL) {
				exit(1);
			}
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	*ret_len = len;
	return buf;
}

static void
spew(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "could not write \"%s\"\n", path);
		exit(1);
	}
}

struct gen {
	am_batch batch;
	am_usage_event *ev;
	am_usage_event **ptr;
	uint8_t (*ids)[16];
	char (*users)[32];
	uint8_t batch_id[16];
	char session[32];
};

/* Batch k of seed: events (seed, k, 0..n-1); ts in the last day. */
static void
gen_batch(struct gen *g, unsigned long seed, unsigned long k, size_t n, unsigned schema)
{
	char key[64];
	int64_t base = ((int64_t)time(NULL) - 86400) * 1000;

	base -= base % 86400000; /* start of yesterday, UTC: stable across a test */
	aimeter__v1__batch__init(&g->batch);
	g->batch.schema_version = schema;
	g->batch.agent_version = (char *)"test";
	g->batch.agent_os = (char *)"linux";
	snprintf(key, sizeof(key), "batch-%lu-%lu", seed, k);
	am_event_id("test", key, strlen(key), g->batch_id);
	g->batch.batch_id.data = g->batch_id;
	g->batch.batch_id.len = 16;
	snprintf(g->session, sizeof(g->session), "sess-%lu", seed);
	g->ev = calloc(n ? n : 1, sizeof(*g->ev));
	g->ptr = calloc(n ? n : 1, sizeof(*g->ptr));
	g->ids = calloc(n ? n : 1, sizeof(*g->ids));
	g->users = calloc(n ? n : 1, sizeof(*g->users));
	for (size_t i = 0; i < n; i++) {
		am_usage_event *e = &g->ev[i];
		aimeter__v1__usage_event__init(e);
		snprintf(key, sizeof(key), "ev-%lu-%lu-%zu", seed, k, i);
		am_event_id("claude-code", key, strlen(key), g->ids[i]);
		e->event_id.data = g->ids[i];
		e->event_id.len = 16;
		e->ts_ms = base + (int64_t)((k * n + i) % 80000) * 1000;
		e->tool = (char *)"claude-code";
		e->model = (char *)models[i % 3];
		e->session = g->session;
		e->project = (char *)"0123456789abcdef0123456789abcdef";
		snprintf(g->users[i], sizeof(g->users[i]), "user%zu@example.com", i % 10);
		e->user = g->users[i];
		e->billing_mode = AIMETER__V1__BILLING_MODE__BILLING_MODE_SUBSCRIPTION;
		e->input_tokens = 10 + i % 7;
		e->output_tokens = 100 + i % 13;
		e->cache_read_tokens = 1000 + i % 17;
		e->cache_write_5m_tokens = i % 5;
		g->ptr[i] = e;
	}
	g->batch.events = g->ptr;
	g->batch.n_events = n;
}

static void
gen_free(struct gen *g)
{
	free(g->ev);
	free(g->ptr);
	free(g->ids);
	free(g->users);
}

static int
cmd_mkbatches(int argc, char **argv)
{
	unsigned long count, n, seed;
	unsigned schema = AM_SCHEMA_VERSION;
	unsigned long long out_sum = 0;

	if (argc < 6) {
		return 2;
	}
	count = strtoul(argv[3], NULL, 10);
	n = strtoul(argv[4], NULL, 10);
	seed = strtoul(argv[5], NULL, 10);
	if (argc > 6) {
		schema = (unsigned)strtoul(argv[6], NULL, 10);
	}
	mkdir(argv[2], 0755);
	for (unsigned long k = 0; k < count; k++) {
		struct gen g;
		uint8_t *wire;
		size_t len;
		char path[4096];

		gen_batch(&g, seed, k, n, schema);
		for (size_t i = 0; i < n; i++) {
			out_sum += g.ev[i].output_tokens;
		}
		if (am_batch_encode(&g.batch, &wire, &len) < 0) {
			fprintf(stderr, "could not encode\n");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/%06lu.bin", argv[2], k);
		spew(path, wire, len);
		free(wire);
		gen_free(&g);
	}
	printf("events=%lu output_tokens=%llu\n", count * n, out_sum);
	return 0;
}

static int
cmd_copyrows(int argc, char **argv)
{
	unsigned long count, n, seed;
	uint8_t key[256];
	size_t key_len;
	char err[256];

	if (argc < 7) {
		return 2;
	}
	count = strtoul(argv[3], NULL, 10);
	n = strtoul(argv[4], NULL, 10);
	seed = strtoul(argv[5], NULL, 10);
	if (identity_key_load(argv[6], key, &key_len, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	mkdir(argv[2], 0755);
	for (unsigned long k = 0; k < count; k++) {
		struct gen g;
		struct writepath_buf b, ev;
		char path[4096];
		FILE *f;

		gen_batch(&g, seed, k, n, AM_SCHEMA_VERSION);
		writepath_buf_init(&b, 4096);
		writepath_buf_init(&ev, 64u << 20);
		writepath_format_batch(&b, 0, NULL, g.batch_id, 16, n, 0);
		for (size_t i = 0; i < n; i++) {
			uint8_t mac[AM_IDENTITY_HMAC_LEN];
			identity_hmac(key, key_len, g.ev[i].user, mac);
			writepath_format_event(&ev, 0, (int)i, &g.ev[i], mac, NULL, NULL);
		}
		/* One psql script per batch: the write path exactly as the collector runs it. */
		snprintf(path, sizeof(path), "%s/%06lu.sql", argv[2], k);
		f = fopen(path, "w");
		if (f == NULL) {
			return 1;
		}
		fprintf(f, "BEGIN;\n%s;\n%s;\n%.*s\\.\n%s;\n%.*s\\.\n%s;\nCOMMIT;\n",
			WRITEPATH_SQL_CREATE_STAGE, WRITEPATH_SQL_COPY_BATCH, (int)b.len, b.data,
			WRITEPATH_SQL_COPY_EVENTS, (int)ev.len, ev.data, WRITEPATH_SQL_INGEST);
		fclose(f);
		/* And plain COPY rows for the raw-COPY baseline. */
		snprintf(path, sizeof(path), "%s/%06lu.rows", argv[2], k);
		spew(path, ev.data, ev.len);
		writepath_buf_finish(&b);
		writepath_buf_finish(&ev);
		gen_free(&g);
	}
	return 0;
}

static int
cmd_ack(int argc, char **argv)
{
	size_t len;
	uint8_t *buf;
	Aimeter__V1__BatchAck *ack;

	if (argc < 3) {
		return 2;
	}
	buf = slurp(argv[2], &len);
	ack = aimeter__v1__batch_ack__unpack(NULL, len, buf);
	free(buf);
	if (ack == NULL) {
		fprintf(stderr, "not a BatchAck\n");
		return 1;
	}
	printf("accepted=%u duplicates=%u rejected=%zu\n", ack->accepted, ack->duplicates,
	       ack->n_rejected);
	for (size_t i = 0; i < ack->n_rejected; i++) {
		printf("rejected %u %s\n", ack->rejected[i]->index, ack->rejected[i]->reason);
	}
	aimeter__v1__batch_ack__free_unpacked(ack, NULL);
	return 0;
}

static int
cmd_enroll_req(int argc, char **argv)
{
	Aimeter__V1__EnrollRequest er = AIMETER__V1__ENROLL_REQUEST__INIT;
	uint8_t *buf;
	size_t len;

	if (argc < 5) {
		return 2;
	}
	er.enrollment_secret = argv[3];
	er.hostname = argv[4];
	er.os = (char *)"linux";
	er.agent_version = (char *)"test";
	len = aimeter__v1__enroll_request__get_packed_size(&er);
	buf = malloc(len + 1);
	aimeter__v1__enroll_request__pack(&er, buf);
	spew(argv[2], buf, len);
	free(buf);
	return 0;
}

static int
cmd_enroll_resp(int argc, char **argv)
{
	size_t len;
	uint8_t *buf;
	Aimeter__V1__EnrollResponse *r;

	if (argc < 3) {
		return 2;
	}
	buf = slurp(argv[2], &len);
	r = aimeter__v1__enroll_response__unpack(NULL, len, buf);
	free(buf);
	if (r == NULL) {
		fprintf(stderr, "not an EnrollResponse\n");
		return 1;
	}
	printf("device_id=%s token=%s key_len=%zu\n", r->device_id, r->device_token,
	       r->project_label_key.len);
	aimeter__v1__enroll_response__free_unpacked(r, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	int r = 2;

	if (argc >= 2) {
		if (strcmp(argv[1], "mkbatches") == 0) {
			r = cmd_mkbatches(argc, argv);
		} else if (strcmp(argv[1], "ack") == 0) {
			r = cmd_ack(argc, argv);
		} else if (strcmp(argv[1], "enroll-req") == 0) {
			r = cmd_enroll_req(argc, argv);
		} else if (strcmp(argv[1], "enroll-resp") == 0) {
			r = cmd_enroll_resp(argc, argv);
		} else if (strcmp(argv[1], "copyrows") == 0) {
			r = cmd_copyrows(argc, argv);
		}
	}
	if (r == 2) {
		fprintf(stderr, "usage: see the comment at the top of test-collector-tool.c\n");
	}
	return r;
}
