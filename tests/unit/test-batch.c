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
	ASSERT(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)));
	ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0);
	len = out.pos;
	ASSERT_LT(len, 16 * 1024);
	lim.max_decompressed = 1u << 20;
	uint8_t *plain;
	size_t plain_len;
	struct am_batch_status st;
	ASSERT_EQ(am_zstd_decompress(buf, len, &lim, &plain, &plain_len, &st), -1);
	ASSERT_EQ(st.code, AM_BATCH_DECOMPRESSED_TOO_LARGE);
	ASSERT_EQ(am_zstd_decompress(buf, len, &am_batch_default_limits,
				      &plain, &plain_len, &st), -1);
	ASSERT_EQ(st.code, AM_BATCH_DECOMPRESSED_TOO_LARGE);

	/* The batch decoder stops sooner: zero bytes are no protobuf field. */
	expect_error(buf, len, NULL, AM_BATCH_PROTOBUF);

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
	uint8_t *buf = make_batch(2, AM_SCHEMA_VERSION_MAX + 1, &len);

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

/* A streamed zstd frame (no declared size) of pattern repeated to total bytes. */
static uint8_t *
repeat_zstd(const uint8_t *head, size_t head_len, const uint8_t *pat, size_t pat_len,
	    size_t total, size_t *ret_len)
{
	uint8_t *raw = malloc(total);
	size_t bound = ZSTD_compressBound(total);
	uint8_t *buf = malloc(bound);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	ZSTD_inBuffer in = { raw, total, 0 };
	ZSTD_outBuffer out = { buf, bound, 0 };

	ASSERT(raw && buf && cctx);
	if (head_len > 0) {
		memcpy(raw, head, head_len);
	}
	for (size_t i = head_len; i < total; i++) {
		raw[i] = pat[(i - head_len) % pat_len];
	}
	ASSERT(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)));
	ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0);
	*ret_len = out.pos;
	ZSTD_freeCCtx(cctx);
	free(raw);
	return buf;
}

/* The attack of issue 11: 32 MiB of tiny repeated fields, refused cheaply. */
TEST(tiny_field_bombs)
{
	static const uint8_t version[] = { 0x08, 0x01 };     /* schema_version = 1 */
	static const uint8_t empty_event[] = { 0x32, 0x00 }; /* events { } */
	static const uint8_t unknown[] = { 0x48, 0x01 };     /* field 9 = 1 */
	/* one event of 60,000 bytes: ts_ms = 1 again and again */
	static const uint8_t big_event[] = { 0x08, 0x01, 0x32, 0xe0, 0xd4, 0x03 };
	static const uint8_t ts[] = { 0x10, 0x01 };
	/* one event declaring 30 MiB */
	static const uint8_t huge_event[] = { 0x08, 0x01, 0x32, 0x80, 0x80, 0x80, 0x0f };
	size_t total = 32u << 20, len;
	uint8_t *buf;

	buf = repeat_zstd(NULL, 0, version, 2, total, &len);
	ASSERT_LT(len, 8 * 1024);
	expect_error(buf, len, NULL, AM_BATCH_DUPLICATE_FIELD);
	free(buf);
	buf = repeat_zstd(version, 2, empty_event, 2, total, &len);
	expect_error(buf, len, NULL, AM_BATCH_TOO_MANY_EVENTS);
	free(buf);
	buf = repeat_zstd(NULL, 0, unknown, 2, total, &len);
	expect_error(buf, len, NULL, AM_BATCH_UNKNOWN_FIELD);
	free(buf);
	buf = repeat_zstd(big_event, sizeof(big_event), ts, 2, 60006, &len);
	expect_error(buf, len, NULL, AM_BATCH_DUPLICATE_FIELD);
	free(buf);
	buf = repeat_zstd(huge_event, sizeof(huge_event), ts, 2, total, &len);
	expect_error(buf, len, NULL, AM_BATCH_EVENT_TOO_LARGE);
	free(buf);
}

TEST(unknown_and_misfit_fields)
{
	static const uint8_t top[] = { 0x08, 0x01, 0x50, 0x05 };         /* field 10 */
	static const uint8_t nested[] = { 0x08, 0x01, 0x32, 0x02, 0xa0, 0x01 }; /* event field 20 */
	static const uint8_t wiretype[] = { 0x08, 0x01, 0x12, 0x01, 0x41, 0x3a, 0x01, 0x02 };
	static const uint8_t fixed64[] = { 0x09, 1, 2, 3, 4, 5, 6, 7, 8 }; /* field 1 as fixed64 */
	static const uint8_t group[] = { 0x0b, 0x0c };
	static const uint8_t overlong[] = { 0x08, 0x01, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	size_t len;
	uint8_t *buf;

	buf = zstd_of(top, sizeof(top), &len);
	expect_error(buf, len, NULL, AM_BATCH_UNKNOWN_FIELD);
	free(buf);
	buf = zstd_of(nested, sizeof(nested), &len);
	expect_error(buf, len, NULL, AM_BATCH_UNKNOWN_FIELD);
	free(buf);
	buf = zstd_of(wiretype, sizeof(wiretype), &len); /* spool_dropped as bytes */
	expect_error(buf, len, NULL, AM_BATCH_PROTOBUF);
	free(buf);
	buf = zstd_of(fixed64, sizeof(fixed64), &len);
	expect_error(buf, len, NULL, AM_BATCH_PROTOBUF);
	free(buf);
	buf = zstd_of(group, sizeof(group), &len);
	expect_error(buf, len, NULL, AM_BATCH_PROTOBUF);
	free(buf);
	buf = zstd_of(overlong, sizeof(overlong), &len);
	expect_error(buf, len, NULL, AM_BATCH_PROTOBUF);
	free(buf);
}

TEST(field_count_cap)
{
	size_t len;
	uint8_t *buf = make_batch(100, AM_SCHEMA_VERSION, &len);
	struct am_batch_limits lim = am_batch_default_limits;
	am_batch *b;
	struct am_batch_status st;

	/* 100 events of 8 fields each, plus 2 header fields: 802. */
	lim.max_fields = 802;
	ASSERT_EQ(am_batch_decode(buf, len, &lim, &b, &st), 0);
	am_batch_free(b);
	lim.max_fields = 801;
	expect_error(buf, len, &lim, AM_BATCH_TOO_MANY_FIELDS);
	free(buf);
}

TEST(header_control_character)
{
	am_batch b;
	size_t len;
	uint8_t *buf;

	aimeter__v1__batch__init(&b);
	b.schema_version = AM_SCHEMA_VERSION;
	b.agent_os = (char *)"linux\x1b[31m";
	buf = pack_zstd(&b, &len);
	expect_error(buf, len, NULL, AM_BATCH_CONTROL_CHARACTER);
	free(buf);
}

/* Good events around bad ones: the batch decodes, each bad one has its reason. */
TEST(per_event_faults)
{
	enum { N = 9 };
	am_batch b;
	am_usage_event e[N], *ep[N];
	uint8_t id[N][16];
	char long_model[300];
	char c1[] = "sonnet\xc2\x85";
	char tab[] = "proj\tx";
	char ok_utf8[] = "caf\xc3\xa9 \xc2\xa0";
	size_t len;
	uint8_t *buf, *faults;
	am_batch *got;
	struct am_batch_status st;
	static const enum am_event_fault want[N] = {
		AM_EVENT_OK,
		AM_EVENT_BAD_ID,
		AM_EVENT_MISSING_TIMESTAMP,
		AM_EVENT_MISSING_TOOL,
		AM_EVENT_STRING_TOO_LONG,
		AM_EVENT_CONTROL_CHARACTER,
		AM_EVENT_CONTROL_CHARACTER,
		AM_EVENT_OK,
		AM_EVENT_BAD_ID, /* bad id wins over a long string */
	};

	memset(long_model, 'm', sizeof(long_model) - 1);
	long_model[sizeof(long_model) - 1] = '\0';
	aimeter__v1__batch__init(&b);
	b.schema_version = AM_SCHEMA_VERSION;
	for (int i = 0; i < N; i++) {
		fill_event(&e[i], id[i], i);
		ep[i] = &e[i];
	}
	e[1].event_id.len = 15;
	e[2].ts_ms = 0;
	e[3].tool = empty;
	e[4].model = long_model;
	e[5].model = c1;
	e[6].project = tab;
	e[7].project = ok_utf8;
	e[8].event_id.len = 0;
	e[8].session = long_model;
	b.n_events = N;
	b.events = ep;
	buf = pack_zstd(&b, &len);
	ASSERT_EQ(am_batch_decode_events(buf, len, NULL, &got, &faults, &st), 0);
	ASSERT_NOT_NULL(faults);
	ASSERT_UINT_EQ(got->n_events, N);
	for (int i = 0; i < N; i++) {
		ASSERT_STR_EQ(am_event_fault_name(faults[i]), am_event_fault_name(want[i]));
	}
	free(faults);
	am_batch_free(got);

	/* All good: no fault list at all. */
	b.n_events = 1;
	free(buf);
	buf = pack_zstd(&b, &len);
	ASSERT_EQ(am_batch_decode_events(buf, len, NULL, &got, &faults, &st), 0);
	ASSERT_NULL(faults);
	am_batch_free(got);
	free(buf);
}

/* A NUL inside a protobuf string would vanish at the C string; it is a control character. */
TEST(embedded_nul)
{
	static const uint8_t raw[] = {
		0x08, 0x01, 0x32, 0x1d, 0x0a, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 0x10, 0x05, 0x1a, 0x07, 'c', 'o', 'd', 'e', 0x00, 'x', 'y',
	};
	size_t len;
	uint8_t *buf = zstd_of(raw, sizeof(raw), &len), *faults;
	am_batch *got;
	struct am_batch_status st;

	ASSERT_EQ(am_batch_decode_events(buf, len, NULL, &got, &faults, &st), 0);
	ASSERT_NOT_NULL(faults);
	ASSERT_STR_EQ(am_event_fault_name(faults[0]), "control_character");
	free(faults);
	am_batch_free(got);
	free(buf);
}

TEST(fault_names)
{
	ASSERT_STR_EQ(am_event_fault_name(AM_EVENT_BAD_ID), "bad_event_id");
	ASSERT_STR_EQ(am_event_fault_name(AM_EVENT_MISSING_TIMESTAMP), "missing_timestamp");
	ASSERT_STR_EQ(am_event_fault_name(AM_EVENT_MISSING_TOOL), "missing_tool");
	ASSERT_STR_EQ(am_event_fault_name(AM_EVENT_STRING_TOO_LONG), "string_too_long");
	ASSERT_STR_EQ(am_event_fault_name(AM_EVENT_CONTROL_CHARACTER), "control_character");
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
	RUN(tiny_field_bombs);
	RUN(unknown_and_misfit_fields);
	RUN(field_count_cap);
	RUN(header_control_character);
	RUN(per_event_faults);
	RUN(embedded_nul);
	RUN(fault_names);
	RUN(missing_event_id);
	RUN(missing_timestamp);
	RUN(missing_tool);
	RUN(exact_cap_is_not_a_bomb);
	RUN(error_names_are_distinct);
	return 0;
}
