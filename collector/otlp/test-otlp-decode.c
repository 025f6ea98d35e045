/*
 * test-otlp-decode.c: the OTLP decoders and normalisation (decode.h) and the
 * response bodies (otlp.h), without a network or a database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decode.h"
#include "otlp.h"
#include "otlp.pb-c.h"
#include "test.h"

#define API_REQUEST_JSON(extra)                                                                   \
	"{\"resourceLogs\":[{\"resource\":{\"attributes\":["                                      \
	"{\"key\":\"service.name\",\"value\":{\"stringValue\":\"claude-code\"}},"                 \
	"{\"key\":\"user.email\",\"value\":{\"stringValue\":\"a@example.com\"}}]},"               \
	"\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"1764806400000000000\","              \
	"\"body\":{\"stringValue\":\"claude_code.api_request\"},\"attributes\":["                 \
	"{\"key\":\"request_id\",\"value\":{\"stringValue\":\"req_1\"}},"                         \
	"{\"key\":\"model\",\"value\":{\"stringValue\":\"claude-opus-4\"}},"                      \
	"{\"key\":\"input_tokens\",\"value\":{\"intValue\":\"12\"}},"                             \
	"{\"key\":\"output_tokens\",\"value\":{\"intValue\":34}},"                                \
	"{\"key\":\"cache_read_tokens\",\"value\":{\"stringValue\":\"56\"}},"                     \
	"{\"key\":\"cache_creation_tokens\",\"value\":{\"doubleValue\":7.0}},"                    \
	"{\"key\":\"prompt\",\"value\":{\"stringValue\":\"SECRET\"}}" extra "]},"                  \
	"{\"body\":{\"stringValue\":\"claude_code.user_prompt\"}}]}]}]}"

static int
decode_str(enum otlp_signal sig, enum otlp_encoding enc, const char *s, struct otlp_result *res)
{
	memset(res, 0, sizeof(*res));
	return otlp_decode(sig, enc, false, (const uint8_t *)s, strlen(s), &otlp_default_limits,
			   res);
}

TEST(json_api_request)
{
	struct otlp_result res;
	struct otlp_call *c;

	ASSERT_EQ(decode_str(OTLP_LOGS, OTLP_JSON, API_REQUEST_JSON(""), &res), 0);
	ASSERT_UINT_EQ(res.records, 2);
	ASSERT_UINT_EQ(res.rejected, 0);
	ASSERT_UINT_EQ(res.n_calls, 1);
	c = &res.calls[0];
	ASSERT_STR_EQ(c->model, "claude-opus-4");
	ASSERT_STR_EQ(c->user, "a@example.com");
	ASSERT_UINT_EQ(c->input, 12);
	ASSERT_UINT_EQ(c->output, 34);
	ASSERT_UINT_EQ(c->cache_read, 56);
	ASSERT_UINT_EQ(c->cache_creation, 7);
	ASSERT_EQ(c->ts_ms, 1764806400000LL);
	otlp_result_finish(&res);
}

TEST(same_record_same_id)
{
	struct otlp_result a, b;

	/* An extra attribute (a retry with other detail) keeps the id. */
	ASSERT_EQ(decode_str(OTLP_LOGS, OTLP_JSON, API_REQUEST_JSON(""), &a), 0);
	ASSERT_EQ(decode_str(OTLP_LOGS, OTLP_JSON,
			     API_REQUEST_JSON(",{\"key\":\"duration_ms\",\"value\":{\"intValue\":9}}"),
			     &b),
		  0);
	ASSERT_EQ(memcmp(a.calls[0].event_id, b.calls[0].event_id, 16), 0);
	otlp_result_finish(&a);
	otlp_result_finish(&b);
}

TEST(no_id_is_rejected)
{
	struct otlp_result res;
	const char *s = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{"
			"\"timeUnixNano\":\"1\",\"eventName\":\"claude_code.api_request\"}]}]}]}";

	ASSERT_EQ(decode_str(OTLP_LOGS, OTLP_JSON, s, &res), 0);
	ASSERT_UINT_EQ(res.n_calls, 0);
	ASSERT_UINT_EQ(res.rejected, 1);
	otlp_result_finish(&res);
}

TEST(protobuf_round_trip)
{
	Aimeter__Otlp__V1__AnyValue name = AIMETER__OTLP__V1__ANY_VALUE__INIT, rid = name,
				    in = name;
	Aimeter__Otlp__V1__KeyValue kv_rid = AIMETER__OTLP__V1__KEY_VALUE__INIT, kv_in = kv_rid;
	Aimeter__Otlp__V1__KeyValue *kvs[] = { &kv_rid, &kv_in };
	Aimeter__Otlp__V1__LogRecord lr = AIMETER__OTLP__V1__LOG_RECORD__INIT, *lrp = &lr;
	Aimeter__Otlp__V1__ScopeLogs sl = AIMETER__OTLP__V1__SCOPE_LOGS__INIT, *slp = &sl;
	Aimeter__Otlp__V1__ResourceLogs rl = AIMETER__OTLP__V1__RESOURCE_LOGS__INIT, *rlp = &rl;
	Aimeter__Otlp__V1__ExportLogsServiceRequest req =
		AIMETER__OTLP__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	struct otlp_result res;
	uint8_t buf[512];
	size_t len;

	name.value_case = AIMETER__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE;
	name.string_value = "claude_code.api_request";
	rid.value_case = AIMETER__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE;
	rid.string_value = "req_9";
	in.value_case = AIMETER__OTLP__V1__ANY_VALUE__VALUE_INT_VALUE;
	in.int_value = 77;
	kv_rid.key = "request_id";
	kv_rid.value = &rid;
	kv_in.key = "input_tokens";
	kv_in.value = &in;
	lr.time_unix_nano = 1764806400000000000ull;
	lr.body = &name;
	lr.attributes = kvs;
	lr.n_attributes = 2;
	sl.log_records = &lrp;
	sl.n_log_records = 1;
	rl.scope_logs = &slp;
	rl.n_scope_logs = 1;
	req.resource_logs = &rlp;
	req.n_resource_logs = 1;
	len = aimeter__otlp__v1__export_logs_service_request__pack(&req, buf);

	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_LOGS, OTLP_PROTOBUF, false, buf, len, &otlp_default_limits,
			      &res),
		  0);
	ASSERT_UINT_EQ(res.n_calls, 1);
	ASSERT_UINT_EQ(res.calls[0].input, 77);
	otlp_result_finish(&res);
}

/* Prepend a length-delimited field header to buf[0, *len) (lengths < 128). */
static void
wrap(uint8_t *buf, size_t *len, uint8_t tag)
{
	memmove(buf + 2, buf, *len);
	buf[0] = tag;
	buf[1] = (uint8_t)*len;
	*len += 2;
}

TEST(protobuf_too_deep)
{
	uint8_t buf[256] = { 0x10, 0x01 }; /* AnyValue{bool_value: true} */
	size_t len = 2;
	struct otlp_limits lim = otlp_default_limits;
	struct otlp_result res;

	for (int i = 0; i < 20; i++) {
		wrap(buf, &len, 0x0a); /* ArrayValue.values */
		wrap(buf, &len, 0x2a); /* AnyValue.array_value */
	}
	wrap(buf, &len, 0x12); /* KeyValue.value */
	wrap(buf, &len, 0x0a); /* Resource.attributes */
	wrap(buf, &len, 0x0a); /* ResourceLogs.resource */
	wrap(buf, &len, 0x0a); /* ExportLogsServiceRequest.resource_logs */
	lim.max_depth = 8;
	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_LOGS, OTLP_PROTOBUF, false, buf, len, &lim, &res), -1);
	ASSERT_EQ(res.error, OTLP_TOO_DEEP);
	otlp_result_finish(&res);
	/* Within the depth, the same bytes decode. */
	lim.max_depth = 64;
	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_LOGS, OTLP_PROTOBUF, false, buf, len, &lim, &res), 0);
	otlp_result_finish(&res);
}

/* JSON is bounded before it is parsed: depth (braces inside strings do not
 * count) and the number of values. */
TEST(json_bounds)
{
	static const char deep[] = "{\"resourceLogs\":[[[[[[[[[[[[]]]]]]]]]]]]}";
	static const char quoted[] = "{\"resourceLogs\":[],\"x\":\"[[[[[[[[[[[[\\\"[[[[\"}";
	static const char many[] = "{\"resourceLogs\":[],\"x\":[1,2,3,4,5,6,7,8,9]}";
	struct otlp_limits lim = otlp_default_limits;
	struct otlp_result res;

	lim.max_depth = 4; /* JSON: 10 levels */
	lim.max_fields = 8;
	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_LOGS, OTLP_JSON, false, (const uint8_t *)deep, strlen(deep),
			      &lim, &res), -1);
	ASSERT_EQ(res.error, OTLP_TOO_DEEP);
	otlp_result_finish(&res);
	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_LOGS, OTLP_JSON, false, (const uint8_t *)quoted,
			      strlen(quoted), &lim, &res), 0);
	otlp_result_finish(&res);
	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_LOGS, OTLP_JSON, false, (const uint8_t *)many, strlen(many),
			      &lim, &res), -1);
	ASSERT_EQ(res.error, OTLP_TOO_LARGE);
	otlp_result_finish(&res);
	lim.max_fields = 16;
	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_LOGS, OTLP_JSON, false, (const uint8_t *)many, strlen(many),
			      &lim, &res), 0);
	otlp_result_finish(&res);
}

TEST(gzip_bomb)
{
	size_t plain_len = 4u << 20, zlen = compressBound(plain_len) + 32;
	uint8_t *plain = calloc(1, plain_len), *z = malloc(zlen);
	z_stream s;
	struct otlp_limits lim = otlp_default_limits;
	struct otlp_result res;

	ASSERT_NOT_NULL(plain);
	ASSERT_NOT_NULL(z);
	memset(&s, 0, sizeof(s));
	ASSERT_EQ(deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	s.next_in = plain;
	s.avail_in = (uInt)plain_len;
	s.next_out = z;
	s.avail_out = (uInt)zlen;
	ASSERT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
	zlen = s.total_out;
	deflateEnd(&s);
	lim.max_decompressed = 1u << 20;
	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_LOGS, OTLP_PROTOBUF, true, z, zlen, &lim, &res), -1);
	ASSERT_EQ(res.error, OTLP_TOO_LARGE);
	otlp_result_finish(&res);
	/* Within the limit the same stream decodes (zeros: field 0 is refused). */
	memset(&res, 0, sizeof(res));
	lim.max_decompressed = 8u << 20;
	ASSERT_EQ(otlp_decode(OTLP_LOGS, OTLP_PROTOBUF, true, z, zlen, &lim, &res), -1);
	ASSERT_EQ(res.error, OTLP_BAD_MESSAGE);
	otlp_result_finish(&res);
	free(plain);
	free(z);
}

TEST(responses)
{
	uint8_t *buf;
	size_t len;

	ASSERT_EQ(otlp_response(OTLP_LOGS, OTLP_JSON, 0, NULL, &buf, &len), 0);
	ASSERT_EQ(len, 2);
	ASSERT_EQ(memcmp(buf, "{}", 2), 0);
	free(buf);
	ASSERT_EQ(otlp_response(OTLP_METRICS, OTLP_JSON, 3, "x", &buf, &len), 0);
	ASSERT_NOT_NULL(strstr((char *)buf, "\"rejectedDataPoints\":\"3\""));
	free(buf);
	ASSERT_EQ(otlp_response(OTLP_TRACES, OTLP_PROTOBUF, 0, NULL, &buf, &len), 0);
	ASSERT_EQ(len, 0);
	free(buf);
	/* partial_success{rejected 2, "m"}: 0a 05 08 02 12 01 6d */
	ASSERT_EQ(otlp_response(OTLP_LOGS, OTLP_PROTOBUF, 2, "m", &buf, &len), 0);
	ASSERT_EQ(len, 7);
	ASSERT_EQ(memcmp(buf, "\x0a\x05\x08\x02\x12\x01m", 7), 0);
	free(buf);
}

int
main(void)
{
	RUN(json_api_request);
	RUN(same_record_same_id);
	RUN(no_id_is_rejected);
	RUN(protobuf_round_trip);
	RUN(protobuf_too_deep);
	RUN(json_bounds);
	RUN(gzip_bomb);
	RUN(responses);
	return 0;
}
