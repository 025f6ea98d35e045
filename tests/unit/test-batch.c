/*
 * test-batch.c: the batch codec round-trips, and every bad input the issue
 * lists is rejected with its own error code, without crashing, leaking or
 * allocating beyond the caps (run under ASan).
 */
#include <errno.h>
#include <zstd.h>

#include "batch.h"
#include "test.h"

static char tool_claude[] = "claude-code";
static char model[] = "claude-sonnet-4-5-20250929";
static char empty[] = "";

static void
fill_event(am_usage_event *e, uint8_t *id, int i)
{
	aimeter__v1__usage_event__init(e);
	memset(id, 0, 16);
	id[0] = (uint8_t)i;
	id[1] = (uint8_t)(i >> 8);
	id[15] = 0xa5;
	e->event_id.data = id;
	e->event_id.len = 16;
	e->ts_ms = 1789461000000 + i;
	e->tool = tool_claude;
	e->model = model;
	e->session = empty;
	e->input_tokens = 3;
	e->output_tokens = 1000 + (uint64_t)i;
	e->cache_read_tokens = 24000;
}

/* Encode n events into a zstd batch, with schema version v. */
static uint8_t *
make_batch(size_t n, uint32_t v, size_t *ret_len)
{
	am_batch b;
	am_usage_event *evs = calloc(n ? n : 1, sizeof(*evs));
	am_usage_event **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	uint8_t *ids = calloc(n ? n : 1, 16);
	uint8_t *out = NULL;

	ASSERT(evs && ptrs && ids);
	aimeter__v1__batch__init(&b);
	b.schema_version = v;
	b.device_id = (char *)"dev-1";
	for (size_t i = 0; i < n; i++) {
		fill_event(&evs[i], ids + 16 * i, (int)i);
		ptrs[i] = &evs[i];
	}
	b.n_events = n;
	b.events = ptrs;
	ASSERT_EQ(am_batch_encode(&b, &out, ret_len), 0);
	free(evs);
	free(ptrs);
	free(ids);
	return out;
}

static void
expect_error(const uint8_t *buf, size_t len, const struct am_batch_limits *lim,
	     enum am_batch_error want)
{
	am_batch *b = (am_batch *)1;
	struct am_batch_status st;

	ASSERT_EQ(am_batch_decode(buf, len, lim, &b, &st), -1);
	ASSERT_NULL(b);
	if (st.code != want) {
		TEST_FAIL_("want %s, got %s: %s", am_batch_error_name(want),
			   am_batch_error_name(st.code), st.message);
	}
	ASSERT(st.message[0] != '\0');
	printf("  %s: %s\n", am_batch_error_name(st.code), st.message);
}

/* Pack a batch without zstd, then compress raw bytes of our choosing. */
static uint8_t *
zstd_of(const void *raw, size_t raw_len, size_t *ret_len)
{
	size_t bound = ZSTD_compressBound(raw_len);
	uint8_t *out = malloc(bound);

	ASSERT_NOT_NULL(out);
	*ret_len = ZSTD_compress(out, bound, raw, raw_len, 3);
	ASSERT(!ZSTD_isError(*ret_len));
	return out;
}

static uint8_t *
pack_zstd(am_batch *b, size_t *ret_len)
{
	uint8_t *out;
	ASSERT_EQ(am_batch_encode(b, &out, ret_len), 0);
	return out;
}

TEST(round_trip)
{
	size_t len;
	uint8_t *buf = make_batch(1000, AM_SCHEMA_VERSION, &len);
	am_batch *b;
	struct am_batch_status st;

	ASSERT_EQ(am_batch_decode(buf, len, NULL, &b, &st), 0);
	ASSERT_UINT_EQ(b->n_events, 1000);
	ASSERT_UINT_EQ(b->events[999]->output_tokens, 1999);
	ASSERT_STR_EQ(b->events[5]->model, model);
	ASSERT_STR_EQ(b->device_id, "dev-1");
	am_batch_free(b);
	free(buf);
}

TEST(empty_body)
{
	expect_error((const uint8_t *)"", 0, NULL, AM_BATCH_EMPTY);
}

TEST(truncated_frame)
{
	size_t len;
	uint8_t *buf = make_batch(200, AM_SCHEMA_VERSION, &len);

	expect_error(buf, len / 2, NULL, AM_BATCH_ZSTD_TRUNCATED);
	expect_error(buf, len - 1, NULL, AM_BATCH_ZSTD_TRUNCATED);
	free(buf);
}

TEST(not_zstd)
{
	static const char junk[] = "{\"events\":[]} this is JSON, not zstd";
	expect_error((const uint8_t *)junk, sizeof(junk) - 1, NULL, AM_BATCH_NOT_ZSTD);
}

TEST(corrupt_frame)
{
	size_t len;
	uint8_t *buf = make_batch(200, AM_SCHEMA_VERSION, &len);

	for (size_t i = 12; i < len - 8; i++) {
		buf[i] ^= 0x5a;
	}
	am_batch *b;
	struct am_batch_status st;
	ASSERT_EQ(am_batch_decode(buf, len, NULL, &b, &st), -1);
	/* Scrambled block data is corrupt or at least fails the checks after it. */
	ASSERT(st.code == AM_BATCH_ZSTD_CORRUPT || st.code == AM_BATCH_PROTOBUF ||
	       st.code == AM_BATCH_ZSTD_TRUNCATED || st.code == AM_BATCH_DECOMPRESSED_TOO_LARGE);
	free(buf);
}

TEST(trailing_data)
{
	size_t len;
	uint8_t *buf = make_batch(3, AM_SCHEMA_VERSION, &len);
	uint8_t *two = malloc(len + 5);

	memcpy(two, buf, len);
	memcpy(two + len, "extra", 5);
	expect_error(two, len + 5, NULL, AM_BATCH_TRAILING_DATA);
	free(two);
	free(buf);
}

TEST(bomb)
{
	/* 64 MiB of zeros compresses to a few KB; the cap is 1 MiB. The frame
	 * is made by streaming so it does not declare its content size, and the
	 * decoder must stop while expanding, not after. */
	size_t raw_len = 64u << 20, len;
	uint8_t *raw = calloc(1, raw_len);
	size_t bound = ZSTD_compressBound(raw_len);
	uint8_t *buf = malloc(bound);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	ZSTD_inBuffer in = { raw, raw_len, 0 };
	ZSTD_outBuffer out = { buf, bound, 0 };
	struct am_batch_limits lim = am_batch_default_limits;

	ASSERT(raw && buf && cctx);
	ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0);
	len = out.pos;
	ASSERT_LT(len, 16 * 1024);
	lim.max_decompressed = 1u << 20;
	expect_error(buf, len, &lim, AM_BATCH_DECOMPRESSED_TOO_LARGE);

	/* With the default 32 MiB cap it is stopped as well. */
	expect_error(buf, len, NULL, AM_BATCH_DECOMPRESSED_TOO_LARGE);

	/* A frame that declares its size beyond the cap is refused up front. */
	size_t n = ZSTD_compress(buf, bound, raw, raw_len, 1);
	ASSERT(!ZSTD_isError(n));
	expect_error(buf, n, &lim, AM_BATCH_DECOMPRESSED_TOO_LARGE);
	ZSTD_freeCCtx(cctx);
	free(raw);
	free(buf);
}

TEST(compressed_too_large)
{
	size_t len;
	uint8_t *buf = make_batch(100, AM_SCHEMA_VERSION, &len);
	struct am_batch_limits lim = am_batch_default_limits;

	lim.max_compressed = len - 1;
	expect_error(buf, len, &lim, AM_BATCH_COMPRESSED_TOO_LARGE);
	free(buf);
}

TEST(protobuf_garbage)
{
	static const uint8_t garbage[] = { 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x32, 0x99, 0x07 };
	size_t len;
	uint8_t *buf = zstd_of(garbage, sizeof(garbage), &len);

	expect_error(buf, len, NULL, AM_BATCH_PROTOBUF);
	free(buf);
}

TEST(unsupported_schema_version)
{
	size_t len;
	uint8_t *buf = make_batch(2, 2, &len);

	expect_error(buf, len, NULL, AM_BATCH_SCHEMA_VERSION);
	free(buf);
	buf = make_batch(2, 0, &len);
	expect_error(buf, len, NULL, AM_BATCH_SCHEMA_VERSION);
	free(buf);
}

TEST(too_many_events)
{
	size_t len;
	uint8_t *buf = make_batch(101, AM_SCHEMA_VERSION, &len);
	struct am_batch_limits lim = am_batch_default_limits;

	lim.max_events = 100;
	expect_error(buf, len, &lim, AM_BATCH_TOO_MANY_EVENTS);
	free(buf);
}

TEST(oversize_string)
{
	am_batch b;
	am_usage_event e, *ep = &e;
	uint8_t id[16];
	char long_model[300];
	size_t len;
	uint8_t *buf;

	memset(long_model, 'm', sizeof(long_model) - 1);
	long_model[sizeof(long_model) - 1] = '\0';
	aimeter__v1__batch__init(&b);
	b.schema_version = AM_SCHEMA_VERSION;
	fill_event(&e, id, 1);
	e.model = long_model;
	b.n_events = 1;
	b.events = &ep;
	buf = pack_zstd(&b, &len);
	expect_error(buf, len, NULL, AM_BATCH_STRING_TOO_LONG);
	free(buf);
}

static void
missing_field(int which, enum am_batch_error want)
{
	am_batch b;
	am_usage_event e, *ep = &e;
	uint8_t id[16];
	size_t len;
	uint8_t *buf;

	aimeter__v1__batch__init(&b);
	b.schema_version = AM_SCHEMA_VERSION;
	fill_event(&e, id, 1);
	if (which == 0) {
		e.event_id.len = 0;
		e.event_id.data = NULL;
	} else if (which == 1) {
		e.ts_ms = 0;
	} else {
		e.tool = empty;
	}
	b.n_events = 1;
	b.events = &ep;
	buf = pack_zstd(&b, &len);
	expect_error(buf, len, NULL, want);
	free(buf);
}

TEST(missing_event_id)
{
	missing_field(0, AM_BATCH_BAD_EVENT_ID);
}

TEST(missing_timestamp)
{
	missing_field(1, AM_BATCH_MISSING_TIMESTAMP);
}

TEST(missing_tool)
{
	missing_field(2, AM_BATCH_MISSING_TOOL);
}

TEST(exact_cap_is_not_a_bomb)
{
	size_t len, raw_len;
	uint8_t *buf = make_batch(50, AM_SCHEMA_VERSION, &len);
	uint8_t *raw;
	struct am_batch_limits lim = am_batch_default_limits;
	struct am_batch_status st;

	ASSERT_EQ(am_zstd_decompress(buf, len, &lim, &raw, &raw_len, &st), 0);
	free(raw);
	lim.max_decompressed = raw_len;
	ASSERT_EQ(am_zstd_decompress(buf, len, &lim, &raw, &raw_len, &st), 0);
	free(raw);
	lim.max_decompressed = raw_len - 1;
	ASSERT_EQ(am_zstd_decompress(buf, len, &lim, &raw, &raw_len, &st), -1);
	ASSERT_EQ(st.code, AM_BATCH_DECOMPRESSED_TOO_LARGE);
	free(buf);
}

TEST(error_names_are_distinct)
{
	for (int i = 0; i < AM_BATCH_ERROR_MAX; i++) {
		for (int j = i + 1; j < AM_BATCH_ERROR_MAX; j++) {
			ASSERT(strcmp(am_batch_error_name(i), am_batch_error_name(j)) != 0);
		}
	}
}

int
main(void)
{
	RUN(round_trip);
	RUN(empty_body);
	RUN(truncated_frame);
	RUN(not_zstd);
	RUN(corrupt_frame);
	RUN(trailing_data);
	RUN(bomb);
	RUN(compressed_too_large);
	RUN(protobuf_garbage);
	RUN(unsupported_schema_version);
	RUN(too_many_events);
	RUN(oversize_string);
	RUN(missing_event_id);
	RUN(missing_timestamp);
	RUN(missing_tool);
	RUN(exact_cap_is_not_a_bomb);
	RUN(error_names_are_distinct);
	return 0;
}
