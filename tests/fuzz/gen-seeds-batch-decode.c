/*
 * gen-seeds-batch-decode.c: write the seed corpus for fuzz-batch-decode:
 * valid batches of several sizes plus one of each rejected shape. Run once
 * by hand (the seeds are committed): gen-seeds-batch-decode DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "event_id.h"

static void
write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
seed(const char *dir, const char *name, size_t n, uint32_t version, int breakage)
{
	am_batch b;
	am_usage_event *ev = calloc(n + 1, sizeof(*ev));
	am_usage_event **ptr = calloc(n + 1, sizeof(*ptr));
	uint8_t (*ids)[16] = calloc(n + 1, 16);
	uint8_t *wire;
	size_t len;

	aimeter__v1__batch__init(&b);
	b.schema_version = version;
	b.device_id = (char *)"dev-seed";
	for (size_t i = 0; i < n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "msg_%zu", i);
		aimeter__v1__usage_event__init(&ev[i]);
		am_event_id("claude-code", key, strlen(key), ids[i]);
		ev[i].event_id.data = ids[i];
		ev[i].event_id.len = breakage == 1 ? 15 : 16;
		ev[i].ts_ms = breakage == 2 ? 0 : 1789461000000 + (int64_t)i;
		ev[i].tool = (char *)(breakage == 3 ? "" : (i % 2 ? "codex" : "claude-code"));
		ev[i].model = (char *)"claude-sonnet-4-5-20250929";
		ev[i].session = (char *)"7d0c5e9e-1c4b-4f3e-9a51-2f6c0d1e8b11";
		ev[i].input_tokens = i;
		ev[i].output_tokens = 10 * i;
		ev[i].cache_read_tokens = 1000 * i;
		ptr[i] = &ev[i];
	}
	b.events = ptr;
	b.n_events = n;
	if (am_batch_encode(&b, &wire, &len) != 0) {
		exit(1);
	}
	write_file(dir, name, wire, breakage == 4 ? len / 2 : len);
	free(wire);
	free(ev);
	free(ptr);
	free(ids);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-seeds-batch-decode DIR\n");
		return 2;
	}
	seed(argv[1], "valid-1", 1, AM_SCHEMA_VERSION, 0);
	seed(argv[1], "valid-50", 50, AM_SCHEMA_VERSION, 0);
	seed(argv[1], "schema-2", 3, 2, 0);
	seed(argv[1], "short-id", 2, AM_SCHEMA_VERSION, 1);
	seed(argv[1], "no-ts", 2, AM_SCHEMA_VERSION, 2);
	seed(argv[1], "no-tool", 2, AM_SCHEMA_VERSION, 3);
	seed(argv[1], "truncated", 20, AM_SCHEMA_VERSION, 4);
	write_file(argv[1], "not-zstd", "{\"events\":[]}", 13);
	write_file(argv[1], "empty", "", 0);
	return 0;
}
