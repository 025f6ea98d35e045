/*
 * response.c: OTLP/HTTP response bodies, in the request's encoding; see
 * otlp.h. Full success is an empty Export*ServiceResponse; partial success
 * fills in the signal's rejected count (a 64-bit integer: a string in JSON).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp.h"
#include "otlp.pb-c.h"

static int
json_out(json_t *root, uint8_t **ret_buf, size_t *ret_len)
{
	char *s = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;

	json_decref(root);
	if (s == NULL) {
		return -ENOMEM;
	}
	*ret_buf = (uint8_t *)s;
	*ret_len = strlen(s);
	return 0;
}

static int
pb_out(const ProtobufCMessage *m, uint8_t **ret_buf, size_t *ret_len)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);

	if (buf == NULL) {
		return -ENOMEM;
	}
	*ret_len = protobuf_c_message_pack(m, buf);
	*ret_buf = buf;
	return 0;
}

int
otlp_response(enum otlp_signal signal, enum otlp_encoding enc, uint64_t rejected,
	      const char *message, uint8_t **ret_buf, size_t *ret_len)
{
	static const char *const count_key[] = { "rejectedLogRecords", "rejectedDataPoints",
						  "rejectedSpans" };
	bool partial = rejected > 0 || (message != NULL && message[0] != '\0');
	char n[24];

	snprintf(n, sizeof(n), "%llu", (unsigned long long)rejected);
	if (message == NULL) {
		message = "";
	}
	if (enc == OTLP_JSON) {
		json_t *root = partial ? json_pack("{s:{s:s,s:s}}", "partialSuccess",
						   count_key[signal], n, "errorMessage", message) :
					 json_object();
		return json_out(root, ret_buf, ret_len);
	}
	/* The three partial-success messages share their layout (1: count, 2: text). */
	{
		Aimeter__Otlp__V1__ExportLogsPartialSuccess ps =
			AIMETER__OTLP__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
		Aimeter__Otlp__V1__ExportLogsServiceResponse resp =
			AIMETER__OTLP__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;

		ps.rejected_log_records = (int64_t)rejected;
		ps.error_message = (char *)message;
		resp.partial_success = partial ? &ps : NULL;
		return pb_out(&resp.base, ret_buf, ret_len);
	}
}

int
otlp_status(enum otlp_encoding enc, int code, const char *message, uint8_t **ret_buf,
	    size_t *ret_len)
{
	Aimeter__Otlp__V1__Status st = AIMETER__OTLP__V1__STATUS__INIT;

	if (enc == OTLP_JSON) {
		return json_out(json_pack("{s:i,s:s}", "code", code, "message", message), ret_buf,
				ret_len);
	}
	st.code = code;
	st.message = (char *)message;
	return pb_out(&st.base, ret_buf, ret_len);
}
