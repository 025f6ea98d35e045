/*
 * decode.h: an OTLP/HTTP request body (ExportLogs/Metrics/TraceServiceRequest,
 * protobuf or JSON, maybe gzip) into what aimeter keeps of it: the usage of
 * each model call an AI tool reported, the tool calls it made, and the counters
 * aimeter keeps. normalise.c dispatches per tool to normalise-<tool>.c.
 *
 * Privacy at the door: only the attributes named in normalise.c are read, as
 * scalars, into fixed-size fields; prompts, tool inputs, bodies, error
 * messages and paths are never copied out of the request buffer, whatever
 * the sender's settings. Pure: no I/O, no logging; safe on a worker thread.
 */
#ifndef AM_COLLECTOR_OTLP_DECODE_H
#define AM_COLLECTOR_OTLP_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum otlp_signal { OTLP_LOGS, OTLP_METRICS, OTLP_TRACES, OTLP_SIGNAL_MAX };
enum otlp_encoding { OTLP_PROTOBUF, OTLP_JSON, OTLP_ENCODING_MAX };

struct otlp_limits {
	size_t max_decompressed; /* body bytes after gzip */
	size_t max_records;      /* log records, data points or spans per request */
	size_t max_fields;       /* protobuf fields at every level */
	unsigned max_depth;      /* message nesting (AnyValue in AnyValue ...) */
};

extern const struct otlp_limits otlp_default_limits;

/* One model call, as the usage event it becomes. */
struct otlp_call {
	uint8_t event_id[16]; /* deterministic: the same record gives the same id */
	int64_t ts_ms;
	char tool[16]; /* the aimeter tool name: "claude-code", "codex", "gemini-cli", ... */
	char model[128];
	char session[128];
	char user[256]; /* user.email, else user.account_uuid; "" for none */
	char speed[16];
	uint64_t input, output, cache_read, cache_creation;
	char request_id[129]; /* the API's id of the call, or "": matched to the agent's copy */
};

/*
 * One tool call an AI tool reported (docs/actions.md), as the action record
 * it becomes: its name (built-in names only, else its class) and decision,
 * never its parameters, output or error text. kind and decision are the
 * ActionKind and ActionDecision numbers of proto/aimeter/v1/telemetry.proto.
 */
struct otlp_action {
	uint8_t action_id[16]; /* the agent's scheme: event id of "action:<call id>" */
	int64_t ts_ms;
	char tool[16];
	char session[128];
	char user[256];
	char tool_name[48];
	int kind, decision;
};

/* One data point of a counter aimeter keeps (normalise.c lists them). */
struct otlp_point {
	uint8_t series[32]; /* SHA-256 of the metric name and all its attributes */
	char metric[48];
	char tool[16];  /* the aimeter tool name of the metric's sender */
	char kind[16];  /* the "type" attribute: added / removed; "" for none */
	char user[256]; /* as for calls */
	bool cumulative;
	uint64_t start_ns, time_ns;
	double value;
};

enum otlp_error {
	OTLP_OK,
	OTLP_BAD_GZIP,
	OTLP_TOO_LARGE,  /* decompressed or records past the limits: 413 */
	OTLP_TOO_DEEP,   /* nesting past max_depth: 400 */
	OTLP_BAD_MESSAGE,/* not the signal's request message: 400 */
	OTLP_NOMEM,      /* 503 */
	OTLP_ERROR_MAX
};

struct otlp_result {
	enum otlp_error error;
	char message[128];      /* why, for the response and the log */
	size_t records;         /* log records, data points or spans seen */
	size_t rejected;        /* of those, records aimeter will never accept */
	struct otlp_call *calls; /* owned; n_calls of them */
	size_t n_calls, cap_calls;
	struct otlp_point *points; /* owned; n_points of them */
	size_t n_points, cap_points;
	struct otlp_action *actions; /* owned; n_actions of them */
	size_t n_actions, cap_actions;
};

/*
 * otlp_decode(signal, enc, gzip, body, len, lim, ret): decode body into ret
 * (zeroed by the caller). Returns 0, or -1 with ret->error and message set.
 * ret->calls must be freed with otlp_result_finish() either way.
 */
int otlp_decode(enum otlp_signal signal, enum otlp_encoding enc, bool gzip, const uint8_t *body,
		size_t len, const struct otlp_limits *lim, struct otlp_result *ret);

/* otlp_result_finish(res): free what res owns; res may be half-built. */
void otlp_result_finish(struct otlp_result *res);

/*
 * otlp_inflate(in, len, max_out, ret_out, ret_len): gunzip in, refusing
 * output past max_out bytes (a gzip bomb costs at most max_out). Returns 0
 * (*ret_out malloc'ed, the caller frees it), -EFBIG, -EBADMSG or -ENOMEM.
 */
int otlp_inflate(const uint8_t *in, size_t len, size_t max_out, uint8_t **ret_out,
		 size_t *ret_len);

/* ---- inside the decoders (normalise.c): one record's attributes ---- */

/* The attributes aimeter reads; every other key is ignored unread. */
enum otlp_key {
	OK_EVENT_NAME, OK_EVENT_TIMESTAMP, OK_EVENT_SEQUENCE, OK_SESSION, OK_REQUEST_ID,
	OK_MODEL, OK_INPUT, OK_OUTPUT, OK_CACHE_READ, OK_CACHE_CREATION, OK_EMAIL,
	OK_ACCOUNT_UUID, OK_SPEED, OK_SERVICE, OK_TYPE,
	/* tool events and counters' kinds (normalise-claude.c, -codex.c, -gemini.c) */
	OK_TOOL_NAME, OK_TOOL_USE_ID, OK_CALL_ID, OK_SUCCESS, OK_DECISION, OK_START_TYPE,
	OK_FUNCTION_NAME, OK_TOOL_TYPE, OK_MCP_SERVER,
	/* Codex (normalise-codex.c) */
	OK_CONVERSATION, OK_EVENT_KIND, OK_ACCOUNT_ID, OK_INPUT_COUNT, OK_OUTPUT_COUNT,
	OK_CACHED_COUNT, OK_CACHE_WRITE_COUNT,
	/* Gemini CLI (normalise-gemini.c) */
	OK_CACHED_CONTENT_COUNT, OK_THOUGHTS_COUNT, OK_TOOL_COUNT,
	/* GenAI semantic conventions (normalise-genai.c) */
	OK_GENAI_OPERATION, OK_GENAI_RESPONSE_MODEL, OK_GENAI_REQUEST_MODEL, OK_GENAI_INPUT,
	OK_GENAI_OUTPUT, OK_GENAI_CACHE_READ, OK_GENAI_CACHE_CREATION, OK_GENAI_CACHE_WRITE,
	OK_GENAI_CONVERSATION, OK_GENAI_TOOL_NAME, OK_GENAI_TOOL_CALL_ID, OK_EXIT_CODE,
	/* set by the span walkers, never from an attribute of that name */
	OK_SPAN_NAME, OK_SPAN_KEY, OK_SPAN_ERROR,
	OK_KEY_MAX
};

/* A scalar attribute value: the string form of whatever was sent. */
struct otlp_fields {
	char v[OK_KEY_MAX][128];
	bool set[OK_KEY_MAX];
	uint64_t time_ns; /* time_unix_nano, else observed_time_unix_nano */
	uint8_t attrs_xor[32]; /* XOR of SHA-256(key 0x00 value) over every scalar attribute */
};

/* otlp_key_of(key, len): the enum of an attribute aimeter reads, or OK_KEY_MAX. */
enum otlp_key otlp_key_of(const char *key, size_t len);

/* otlp_fields_set(f, k, s, len): keep s (not NUL-terminated), cut to the field's size. */
void otlp_fields_set(struct otlp_fields *f, enum otlp_key k, const char *s, size_t len);

/*
 * otlp_fields_attr(f, key, key_len, val, val_len): one scalar attribute (in
 * its text form): folded into f's series hash, kept if aimeter reads it.
 */
void otlp_fields_attr(struct otlp_fields *f, const char *key, size_t key_len, const char *val,
		      size_t val_len);

/*
 * otlp_metric_point(f, metric, cumulative, start_ns, time_ns, value, res):
 * one data point of a monotonic sum (f: its resource's and its own
 * attributes) into res->points when aimeter keeps that metric. Returns 0 or
 * -ENOMEM.
 */
int otlp_metric_point(const struct otlp_fields *f, const char *metric, bool cumulative,
		      uint64_t start_ns, uint64_t time_ns, double value, struct otlp_result *res);

/*
 * otlp_log_record(f, res): one log record's fields (its resource's
 * attributes, then its own) into a call or an action when its tool's
 * normaliser keeps it, a reject when such a record lacks what makes it one.
 * Returns 0 or -ENOMEM.
 */
int otlp_log_record(const struct otlp_fields *f, struct otlp_result *res);

/*
 * otlp_span(f, res): one span (its resource's attributes, its own, and
 * OK_SPAN_NAME, OK_SPAN_KEY = "<trace id hex>/<span id hex>", OK_SPAN_ERROR
 * = "1" for an error status; f->time_ns its end) into a call when it is a
 * GenAI chat span, an action when it is a GenAI execute_tool span, of a tool
 * aimeter reads through spans. Returns 0 or -ENOMEM.
 */
int otlp_span(const struct otlp_fields *f, struct otlp_result *res);

/* otlp_fail(res, error, fmt, ...): set res's error and message; returns -1. */
__attribute__((format(printf, 3, 4))) int otlp_fail(struct otlp_result *res,
						   enum otlp_error error, const char *fmt, ...);

/* The two decoders, after gzip (decode.c dispatches). */
int otlp_decode_protobuf(enum otlp_signal signal, const uint8_t *buf, size_t len,
			 const struct otlp_limits *lim, struct otlp_result *res);
int otlp_decode_json(enum otlp_signal signal, const uint8_t *buf, size_t len,
		     const struct otlp_limits *lim, struct otlp_result *res);

#endif
