/*
 * bench-batch.c: encode and decode rates of a realistic 1,000-event batch,
 * beside the same events as JSON lines and as gzip-compressed JSON, measured
 * in the same run. Prints figures only; never asserts timings.
 *
 * usage: bench-batch [--toy]   (--toy: a few rounds, so tests/run keeps it alive)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "batch.h"
#include "bench-util.h"
#include "event_id.h"

#define N_EVENTS 1000

static const char *const models[] = { "claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101",
				      "claude-haiku-4-5-20251001", "gpt-5.1-codex", "gpt-5.2" };

struct fixture {
	am_batch batch;
	am_usage_event ev[N_EVENTS];
	am_usage_event *ptr[N_EVENTS];
	uint8_t ids[N_EVENTS][16];
	char sessions[8][40];
	char projects[4][33];
	uint8_t batch_id[16];
};

static void
build(struct fixture *f)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;

	aimeter__v1__batch__init(&f->batch);
	f->batch.schema_version = AM_SCHEMA_VERSION;
	f->batch.device_id = (char *)"7f3c9a10-5b2e-4c61-9d0a-1e2f3a4b5c6d";
	f->batch.agent_version = (char *)"0.1.0";
	f->batch.agent_os = (char *)"linux-x86_64";
	memset(f->batch_id, 0x42, 16);
	f->batch.batch_id.data = f->batch_id;
	f->batch.batch_id.len = 16;
	for (int i = 0; i < 8; i++) {
		snprintf(f->sessions[i], sizeof(f->sessions[i]), "%08x-1c4b-4f3e-9a51-%012llx",
			 (unsigned)bench_rnd(&s), (unsigned long long)(bench_rnd(&s) & 0xffffffffffffull));
	}
	for (int i = 0; i < 4; i++) {
		uint8_t id[16];
		char key[32];
		snprintf(key, sizeof(key), "repo-%d", i);
		am_event_id("project", key, strlen(key), id);
		am_event_id_hex(id, f->projects[i]);
	}
	for (int i = 0; i < N_EVENTS; i++) {
		am_usage_event *e = &f->ev[i];
		char key[40];
		int m = (int)(bench_rnd(&s) % 5);

		aimeter__v1__usage_event__init(e);
		snprintf(key, sizeof(key), "msg_%016llx", (unsigned long long)bench_rnd(&s));
		am_event_id("claude-code", key, strlen(key), f->ids[i]);
		e->event_id.data = f->ids[i];
		e->event_id.len = 16;
		e->ts_ms = 1789461000000 + i * 4000 + (int64_t)(bench_rnd(&s) % 3000);
		e->tool = (char *)(m >= 3 ? "codex" : "claude-code");
		e->model = (char *)models[m];
		e->session = f->sessions[i / 125];
		e->project = f->projects[(i / 250) % 4];
		e->user = (char *)"dana.kowalski@example.com";
		e->team_hint = (char *)"payments";
		e->billing_mode = AIMETER__V1__BILLING_MODE__BILLING_MODE_SUBSCRIPTION;
		e->input_tokens = bench_rnd(&s) % 50;
		e->output_tokens = 50 + bench_rnd(&s) % 4000;
		e->cache_write_5m_tokens = bench_rnd(&s) % 4 == 0 ? bench_rnd(&s) % 20000 : 0;
		e->cache_read_tokens = 20000 + bench_rnd(&s) % 150000;
		e->reasoning_tokens = m >= 3 ? bench_rnd(&s) % 500 : 0;
		e->web_search_requests = bench_rnd(&s) % 50 == 0 ? 1 : 0;
		e->speed = (char *)"standard";
		e->service_tier = (char *)"standard";
		f->ptr[i] = e;
	}
	f->batch.events = f->ptr;
	f->batch.n_events = N_EVENTS;
}

/* The same events as JSON lines, as `aimeter-agent scan --format jsonl` prints them. */
static size_t
to_json(const struct fixture *f, char *out, size_t cap)
{
	size_t n = 0;

	for (int i = 0; i < N_EVENTS; i++) {
		const am_usage_event *e = &f->ev[i];
		char hex[33];
		am_event_id_hex(e->event_id.data, hex);
		n += (size_t)snprintf(
			out + n, cap - n,
			"{\"event_id\":\"%s\",\"tool\":\"%s\",\"ts_ms\":%lld,\"model\":\"%s\","
			"\"session\":\"%s\",\"project\":\"%s\",\"user\":\"%s\",\"team_hint\":\"%s\","
			"\"billing_mode\":\"subscription\",\"speed\":\"%s\",\"service_tier\":\"%s\","
			"\"input_tokens\":%llu,\"output_tokens\":%llu,\"cache_write_5m_tokens\":%llu,"
			"\"cache_write_1h_tokens\":%llu,\"cache_read_tokens\":%llu,"
			"\"reasoning_tokens\":%llu,\"web_search_requests\":%llu}\n",
			hex, e->tool, (long long)e->ts_ms, e->model, e->session, e->project, e->user,
			e->team_hint, e->speed, e->service_tier, (unsigned long long)e->input_tokens,
			(unsigned long long)e->output_tokens,
			(unsigned long long)e->cache_write_5m_tokens,
			(unsigned long long)e->cache_write_1h_tokens,
			(unsigned long long)e->cache_read_tokens,
			(unsigned long long)e->reasoning_tokens,
			(unsigned long long)e->web_search_requests);
	}
	return n;
}

int
main(int argc, char **argv)
{
	int rounds = (argc > 1 && strcmp(argv[1], "--toy") == 0) ? 3 : 300;
	struct fixture *f = calloc(1, sizeof(*f));
	size_t json_cap = 1u << 20, json_len, gz_len = 0, wire_len = 0;
	char *json = malloc(json_cap);
	uint8_t *gz = malloc(compressBound(json_cap));
	double t0, t_enc, t_dec, t_json, t_gz, t_gunzip;
	uint8_t *wire = NULL;

	if (f == NULL || json == NULL || gz == NULL) {
		return 1;
	}
	build(f);

	t0 = bench_now();
	for (int r = 0; r < rounds; r++) {
		free(wire);
		if (am_batch_encode(&f->batch, &wire, &wire_len) != 0) {
			return 1;
		}
	}
	t_enc = (bench_now() - t0) / rounds;

	t0 = bench_now();
	for (int r = 0; r < rounds; r++) {
		am_batch *b;
		struct am_batch_status st;
		if (am_batch_decode(wire, wire_len, NULL, &b, &st) != 0) {
			fprintf(stderr, "decode failed: %s\n", st.message);
			return 1;
		}
		am_batch_free(b);
	}
	t_dec = (bench_now() - t0) / rounds;

	t0 = bench_now();
	for (int r = 0; r < rounds; r++) {
		json_len = to_json(f, json, json_cap);
	}
	t_json = (bench_now() - t0) / rounds;

	t0 = bench_now();
	for (int r = 0; r < rounds; r++) {
		uLongf n = compressBound(json_len);
		/* gzip's default level, as HTTP clients use it. */
		if (compress2(gz, &n, (const Bytef *)json, json_len, 6) != Z_OK) {
			return 1;
		}
		gz_len = n;
	}
	t_gz = (bench_now() - t0) / rounds;

	t0 = bench_now();
	for (int r = 0; r < rounds; r++) {
		uLongf n = json_cap;
		if (uncompress((Bytef *)json, &n, gz, gz_len) != Z_OK) {
			return 1;
		}
	}
	t_gunzip = (bench_now() - t0) / rounds;

	printf("batch of %d realistic events, %d rounds\n", N_EVENTS, rounds);
	printf("%-28s %14s %14s %12s\n", "format", "encode ev/s", "decode ev/s", "bytes/event");
	printf("%-28s %14.0f %14.0f %12.1f\n", "protobuf+zstd-3 (wire)", N_EVENTS / t_enc,
	       N_EVENTS / t_dec, (double)wire_len / N_EVENTS);
	printf("%-28s %14.0f %14s %12.1f\n", "JSON lines (baseline)", N_EVENTS / t_json, "-",
	       (double)json_len / N_EVENTS);
	printf("%-28s %14.0f %14.0f %12.1f\n", "JSON+gzip-6 (baseline)", N_EVENTS / (t_json + t_gz),
	       N_EVENTS / t_gunzip, (double)gz_len / N_EVENTS);
	printf("wire size vs JSON: %.3f, vs gzip JSON: %.3f\n", (double)wire_len / (double)json_len,
	       (double)wire_len / (double)gz_len);
	printf("(gzip decode excludes JSON parsing; the wire decode includes protobuf unpack and checks)\n");
	free(wire);
	free(json);
	free(gz);
	free(f);
	return 0;
}
