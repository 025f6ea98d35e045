/*
 * decode-json.c: application/json bodies (the OTLP/JSON mapping:
 * lowerCamelCase keys, 64-bit integers as strings or numbers, unknown keys
 * ignored); see decode.h. jansson parses with its own depth cap; this walk
 * reads only the paths below and scalar attribute values.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

/* The array at obj[key], or NULL (absent or not an array: nothing to read). */
static json_t *
array_at(const json_t *obj, const char *key)
{
	json_t *a = json_object_get(obj, key);

	return json_is_array(a) ? a : NULL;
}

/* A uint64 sent as a decimal string or a number; 0 when neither. */
static uint64_t
u64_at(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v)) {
		return strtoull(json_string_value(v), NULL, 10);
	}
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		return (uint64_t)json_integer_value(v);
	}
	return 0;
}

/* An AnyValue object's scalar as text; false for arrays, lists and bytes. */
static bool
scalar_of(const json_t *any, char *buf, size_t size, const char **ret, size_t *ret_len)
{
	json_t *v;
	int n = -1;

	if ((v = json_object_get(any, "stringValue")) != NULL && json_is_string(v)) {
		*ret = json_string_value(v);
		*ret_len = json_string_length(v);
		return true;
	}
	if ((v = json_object_get(any, "intValue")) != NULL) {
		if (json_is_string(v)) {
			*ret = json_string_value(v);
			*ret_len = json_string_length(v);
			return true;
		}
		if (json_is_integer(v)) {
			n = snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		}
	} else if ((v = json_object_get(any, "doubleValue")) != NULL && json_is_number(v)) {
		n = snprintf(buf, size, "%.17g", json_number_value(v));
	} else if ((v = json_object_get(any, "boolValue")) != NULL && json_is_boolean(v)) {
		n = snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
	}
	if (n < 0 || (size_t)n >= size) {
		return false;
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return true;
}

static void
read_attrs(struct otlp_fields *f, const json_t *attrs)
{
	size_t i;
	json_t *kv;

	if (!json_is_array(attrs)) {
		return;
	}
	json_array_foreach (attrs, i, kv) {
		json_t *key = json_object_get(kv, "key");
		char buf[64];
		const char *s;
		size_t len;

		if (json_is_string(key) &&
		    scalar_of(json_object_get(kv, "value"), buf, sizeof(buf), &s, &len)) {
			otlp_fields_attr(f, json_string_value(key), json_string_length(key), s, len);
		}
	}
}

static int
walk_log_record(const json_t *lr, const struct otlp_fields *resource, struct otlp_result *res)
{
	struct otlp_fields f = *resource;
	json_t *v;

	f.time_ns = u64_at(lr, "timeUnixNano");
	if (f.time_ns == 0) {
		f.time_ns = u64_at(lr, "observedTimeUnixNano");
	}
	v = json_object_get(json_object_get(lr, "body"), "stringValue");
	if (json_is_string(v)) {
		otlp_fields_set(&f, OK_EVENT_NAME, json_string_value(v), json_string_length(v));
	}
	v = json_object_get(lr, "eventName");
	if (json_is_string(v) && json_string_length(v) > 0) {
		otlp_fields_set(&f, OK_EVENT_NAME, json_string_value(v), json_string_length(v));
	}
	read_attrs(&f, json_object_get(lr, "attributes"));
	return otlp_log_record(&f, res) < 0 ? otlp_fail(res, OTLP_NOMEM, "out of memory") : 0;
}

/* A span id in OTLP/JSON: hex of n bytes (the JSON mapping's one exception to base64). */
static bool
hex_id_of(const json_t *v, size_t n)
{
	const char *s = json_string_value(v);

	if (s == NULL || json_string_length(v) != 2 * n) {
		return false;
	}
	for (size_t i = 0; i < 2 * n; i++) {
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL) {
			return false;
		}
	}
	return true;
}

/* Copilot CLI reports its model calls as GenAI spans (normalise-genai.c). */
static int
walk_span(const json_t *sp, const struct otlp_fields *resource, struct otlp_result *res)
{
	struct otlp_fields f = *resource;
	json_t *tid = json_object_get(sp, "traceId"), *sid = json_object_get(sp, "spanId");
	json_t *name = json_object_get(sp, "name");
	json_t *code = json_object_get(json_object_get(sp, "status"), "code");

	f.time_ns = u64_at(sp, "endTimeUnixNano");
	if (json_is_string(name)) {
		otlp_fields_set(&f, OK_SPAN_NAME, json_string_value(name), json_string_length(name));
	}
	if (hex_id_of(tid, 16) && hex_id_of(sid, 8)) {
		char key[2 * 16 + 1 + 2 * 8 + 1];
		snprintf(key, sizeof(key), "%s/%s", json_string_value(tid), json_string_value(sid));
		for (char *p = key; *p != '\0'; p++) {
			*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
		}
		otlp_fields_set(&f, OK_SPAN_KEY, key, strlen(key));
	}
	/* StatusCode 2 (error), as a number or as its enum name. */
	if (json_integer_value(code) == 2 ||
	    (json_is_string(code) && strcmp(json_string_value(code), "STATUS_CODE_ERROR") == 0)) {
		otlp_fields_set(&f, OK_SPAN_ERROR, "1", 1);
	}
	read_attrs(&f, json_object_get(sp, "attributes"));
	return otlp_span(&f, res) < 0 ? otlp_fail(res, OTLP_NOMEM, "out of memory") : 0;
}

/* A data point's value: asInt (a string or a number) or asDouble; false for none. */
static bool
point_value(const json_t *dp, double *ret)
{
	json_t *v = json_object_get(dp, "asInt");

	if (json_is_string(v)) {
		char *end;
		*ret = (double)strtoll(json_string_value(v), &end, 10);
		return *end == '\0' && end != json_string_value(v);
	}
	if (v == NULL) {
		v = json_object_get(dp, "asDouble");
	}
	if (json_is_number(v)) {
		*ret = json_number_value(v);
		return true;
	}
	return false;
}

/* One metric's data points; returns how many were seen, or -1. */
static long
walk_metric(const json_t *metric, const struct otlp_fields *resource, struct otlp_result *res)
{
	json_t *sum = json_object_get(metric, "sum"), *name = json_object_get(metric, "name");
	json_t *points = array_at(sum ? sum : json_object_get(metric, "gauge"), "dataPoints"), *dp;
	bool keep = json_is_object(sum) && json_is_true(json_object_get(sum, "isMonotonic")) &&
		    json_is_string(name);
	bool cumulative =
		json_integer_value(json_object_get(sum, "aggregationTemporality")) == 2;
	size_t i;

	if (!keep) {
		return (long)json_array_size(points);
	}
	json_array_foreach (points, i, dp) {
		struct otlp_fields f = *resource;
		double v;

		if (!point_value(dp, &v)) {
			res->records++;
			continue;
		}
		read_attrs(&f, json_object_get(dp, "attributes"));
		if (otlp_metric_point(&f, json_string_value(name), cumulative,
				      u64_at(dp, "startTimeUnixNano"), u64_at(dp, "timeUnixNano"), v,
				      res) < 0) {
			return otlp_fail(res, OTLP_NOMEM, "out of memory");
		}
	}
	return 0; /* counted by otlp_metric_point */
}

/* The records under each resource and scope: logRecords, dataPoints or spans. */
static int
walk(enum otlp_signal signal, const json_t *root, const struct otlp_limits *lim,
     struct otlp_result *res)
{
	static const char *const resource_key[] = { "resourceLogs", "resourceMetrics",
						     "resourceSpans" };
	static const char *const scope_key[] = { "scopeLogs", "scopeMetrics", "scopeSpans" };
	json_t *resources = array_at(root, resource_key[signal]), *rs;
	size_t i, j, k, seen = 0;

	json_array_foreach (resources, i, rs) {
		struct otlp_fields resource;
		json_t *scope, *rec;

		memset(&resource, 0, sizeof(resource));
		read_attrs(&resource, json_object_get(json_object_get(rs, "resource"), "attributes"));
		json_array_foreach (array_at(rs, scope_key[signal]), j, scope) {
			if (signal == OTLP_LOGS) {
				json_array_foreach (array_at(scope, "logRecords"), k, rec) {
					if (++seen > lim->max_records) {
						goto too_many;
					}
					if (walk_log_record(rec, &resource, res) < 0) {
						return -1;
					}
				}
			} else if (signal == OTLP_TRACES) {
				json_array_foreach (array_at(scope, "spans"), k, rec) {
					if (++seen > lim->max_records) {
						goto too_many;
					}
					if (walk_span(rec, &resource, res) < 0) {
						return -1;
					}
				}
			} else {
				json_t *metric;
				json_array_foreach (array_at(scope, "metrics"), k, metric) {
					long n = walk_metric(metric, &resource, res);
					if (n < 0) {
						return -1;
					}
					seen += (size_t)n;
					if (seen + res->records > lim->max_records) {
						goto too_many;
					}
				}
			}
			if (seen > lim->max_records) {
				goto too_many;
			}
		}
	}
	if (signal == OTLP_METRICS) {
		res->records += seen; /* points of metrics aimeter does not keep */
	}
	return 0;
too_many:
	return otlp_fail(res, OTLP_TOO_LARGE, "more than %zu records in one request",
			 lim->max_records);
}

/* Bounds the text before jansson builds a tree of it: jansson spends some
 * 50 bytes or more per value, so 16 MiB of tiny values ("attributes":
 * [{"key":"a","value":{}}, ...]) would cost hundreds of MiB. Containers
 * nest two levels per protobuf message (an object, and an array for a
 * repeated field), so the protobuf decoder's depth cap doubled; values
 * (containers, members and elements) count against its field cap. */
static int
check_json_bounds(const uint8_t *p, size_t len, const struct otlp_limits *lim,
		  struct otlp_result *res)
{
	size_t values = 1;
	unsigned depth = 0, max_depth = 2 * (lim->max_depth + 1);

	for (size_t i = 0; i < len; i++) {
		switch (p[i]) {
		case '"':
			/* Skip the string; an unterminated one is jansson's to refuse. */
			for (i++; i < len && p[i] != '"'; i++) {
				i += p[i] == '\\';
			}
			break;
		case '{':
		case '[':
			if (++depth > max_depth) {
				return otlp_fail(res, OTLP_TOO_DEEP, "JSON nested deeper than %u",
						 max_depth);
			}
			values++;
			break;
		case '}':
		case ']':
			depth -= depth > 0;
			break;
		case ',':
			if (++values > lim->max_fields) {
				return otlp_fail(res, OTLP_TOO_LARGE, "more than %zu JSON values",
						 lim->max_fields);
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

int
otlp_decode_json(enum otlp_signal signal, const uint8_t *buf, size_t len,
		 const struct otlp_limits *lim, struct otlp_result *res)
{
	json_error_t err;
	json_t *root;
	int r;

	if (check_json_bounds(buf, len, lim, res) < 0) {
		return -1;
	}
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		/* Position only: jansson's text quotes the input, which may be content. */
		return otlp_fail(res, OTLP_BAD_MESSAGE, "not JSON (line %d, column %d)", err.line,
				 err.column);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return otlp_fail(res, OTLP_BAD_MESSAGE, "not an OTLP export request");
	}
	r = walk(signal, root, lim, res);
	json_decref(root);
	return r;
}
