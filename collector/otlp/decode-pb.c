/*
 * decode-pb.c: application/x-protobuf bodies; see decode.h.
 *
 * protobuf-c recurses once per nested message and allocates a slot per
 * field before judging it, so a pre-pass walks the wire bytes first with
 * the generated descriptors: it caps nesting depth (AnyValue may nest
 * without end), the total number of fields and the number of records, and
 * checks every length, allocating nothing. Only then does protobuf-c unpack.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "decode.h"
#include "hex.h"
#include "otlp.pb-c.h"

/* Wire types. */
#define WT_VARINT 0
#define WT_I64 1
#define WT_LEN 2
#define WT_I32 5

struct scan {
	const struct otlp_limits *lim;
	size_t fields;
	size_t records;
	const ProtobufCMessageDescriptor *record; /* the message that counts as a record */
};

static int
varint(const uint8_t *p, size_t len, size_t *i, uint64_t *ret)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (*i >= len) {
			return -1;
		}
		uint8_t b = p[(*i)++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*ret = v;
			return 0;
		}
	}
	return -1;
}

/* Check one message of type d in p[0, len); depth counts its ancestors. */
static int
scan_message(struct scan *s, const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
	     unsigned depth, struct otlp_result *res)
{
	size_t i = 0;

	if (depth > s->lim->max_depth) {
		return otlp_fail(res, OTLP_TOO_DEEP, "messages nested deeper than %u",
				 s->lim->max_depth);
	}
	if (d == s->record && ++s->records > s->lim->max_records) {
		return otlp_fail(res, OTLP_TOO_LARGE, "more than %zu records in one request",
				 s->lim->max_records);
	}
	while (i < len) {
		uint64_t key, n;
		const ProtobufCFieldDescriptor *f;

		if (varint(p, len, &i, &key) < 0 || (key >> 3) == 0 || (key >> 3) > UINT32_MAX) {
			return otlp_fail(res, OTLP_BAD_MESSAGE, "bad field key");
		}
		if (++s->fields > s->lim->max_fields) {
			return otlp_fail(res, OTLP_TOO_LARGE, "more than %zu protobuf fields",
					 s->lim->max_fields);
		}
		switch (key & 7) {
		case WT_VARINT:
			if (varint(p, len, &i, &n) < 0) {
				return otlp_fail(res, OTLP_BAD_MESSAGE, "bad varint");
			}
			break;
		case WT_I64:
		case WT_I32:
			n = (key & 7) == WT_I64 ? 8 : 4;
			if (len - i < n) {
				return otlp_fail(res, OTLP_BAD_MESSAGE, "truncated field");
			}
			i += n;
			break;
		case WT_LEN:
			if (varint(p, len, &i, &n) < 0 || n > len - i) {
				return otlp_fail(res, OTLP_BAD_MESSAGE, "bad length");
			}
			f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
			if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    scan_message(s, f->descriptor, p + i, n, depth + 1, res) < 0) {
				return -1;
			}
			i += n;
			break;
		default: /* groups: no OTLP message has them */
			return otlp_fail(res, OTLP_BAD_MESSAGE, "unsupported wire type");
		}
	}
	return 0;
}

/* The scalar form of an AnyValue; false for arrays, lists and bytes (never read). */
static bool
scalar_of(const Aimeter__Otlp__V1__AnyValue *v, char *buf, size_t size, const char **ret,
	  size_t *ret_len)
{
	int n;

	switch (v->value_case) {
	case AIMETER__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE:
		*ret = v->string_value;
		*ret_len = strlen(v->string_value);
		return true;
	case AIMETER__OTLP__V1__ANY_VALUE__VALUE_INT_VALUE:
		n = snprintf(buf, size, "%lld", (long long)v->int_value);
		break;
	case AIMETER__OTLP__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		n = snprintf(buf, size, "%.17g", v->double_value);
		break;
	case AIMETER__OTLP__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		n = snprintf(buf, size, "%s", v->bool_value ? "true" : "false");
		break;
	default:
		return false;
	}
	*ret = buf;
	*ret_len = n > 0 && (size_t)n < size ? (size_t)n : 0;
	return true;
}

static void
read_attrs(struct otlp_fields *f, Aimeter__Otlp__V1__KeyValue **kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		const char *s;
		size_t len;

		if (kv[i]->key == NULL || kv[i]->value == NULL) {
			continue;
		}
		if (scalar_of(kv[i]->value, buf, sizeof(buf), &s, &len)) {
			otlp_fields_attr(f, kv[i]->key, strlen(kv[i]->key), s, len);
		}
	}
}

static int
walk_logs(const Aimeter__Otlp__V1__ExportLogsServiceRequest *req, struct otlp_result *res)
{
	for (size_t r = 0; r < req->n_resource_logs; r++) {
		const Aimeter__Otlp__V1__ResourceLogs *rl = req->resource_logs[r];
		struct otlp_fields resource;

		memset(&resource, 0, sizeof(resource));
		if (rl->resource != NULL) {
			read_attrs(&resource, rl->resource->attributes, rl->resource->n_attributes);
		}
		for (size_t s = 0; s < rl->n_scope_logs; s++) {
			const Aimeter__Otlp__V1__ScopeLogs *sl = rl->scope_logs[s];

			for (size_t l = 0; l < sl->n_log_records; l++) {
				const Aimeter__Otlp__V1__LogRecord *lr = sl->log_records[l];
				struct otlp_fields f = resource;

				f.time_ns = lr->time_unix_nano ? lr->time_unix_nano :
								 lr->observed_time_unix_nano;
				/* The name: body string, event_name, or the event.name attribute. */
				if (lr->body != NULL &&
				    lr->body->value_case ==
					    AIMETER__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE) {
					otlp_fields_set(&f, OK_EVENT_NAME, lr->body->string_value,
							strlen(lr->body->string_value));
				}
				if (lr->event_name != NULL && lr->event_name[0] != '\0') {
					otlp_fields_set(&f, OK_EVENT_NAME, lr->event_name,
							strlen(lr->event_name));
				}
				read_attrs(&f, lr->attributes, lr->n_attributes);
				if (otlp_log_record(&f, res) < 0) {
					return otlp_fail(res, OTLP_NOMEM, "out of memory");
				}
			}
		}
	}
	return 0;
}

/* Copilot CLI reports its model calls as GenAI spans (normalise-genai.c). */
static int
walk_traces(const Aimeter__Otlp__V1__ExportTraceServiceRequest *req, struct otlp_result *res)
{
	for (size_t r = 0; r < req->n_resource_spans; r++) {
		const Aimeter__Otlp__V1__ResourceSpans *rs = req->resource_spans[r];
		struct otlp_fields resource;

		memset(&resource, 0, sizeof(resource));
		if (rs->resource != NULL) {
			read_attrs(&resource, rs->resource->attributes, rs->resource->n_attributes);
		}
		for (size_t s = 0; s < rs->n_scope_spans; s++) {
			const Aimeter__Otlp__V1__ScopeSpans *ss = rs->scope_spans[s];

			for (size_t i = 0; i < ss->n_spans; i++) {
				const Aimeter__Otlp__V1__Span *sp = ss->spans[i];
				struct otlp_fields f = resource;
				char key[2 * 16 + 1 + 2 * 8 + 1] = "";

				f.time_ns = sp->end_time_unix_nano;
				if (sp->name != NULL) {
					otlp_fields_set(&f, OK_SPAN_NAME, sp->name, strlen(sp->name));
				}
				if (sp->trace_id.len == 16 && sp->span_id.len == 8) {
					hex_encode(sp->trace_id.data, 16, key);
					key[32] = '/';
					hex_encode(sp->span_id.data, 8, key + 33);
					otlp_fields_set(&f, OK_SPAN_KEY, key, strlen(key));
				}
				if (sp->status != NULL && sp->status->code == 2) {
					otlp_fields_set(&f, OK_SPAN_ERROR, "1", 1);
				}
				read_attrs(&f, sp->attributes, sp->n_attributes);
				if (otlp_span(&f, res) < 0) {
					return otlp_fail(res, OTLP_NOMEM, "out of memory");
				}
			}
		}
	}
	return 0;
}

static int
walk_metric(const Aimeter__Otlp__V1__Metric *m, const struct otlp_fields *resource,
	    struct otlp_result *res)
{
	const Aimeter__Otlp__V1__Sum *sum = m->data_case == AIMETER__OTLP__V1__METRIC__DATA_SUM ?
						    m->sum :
						    NULL;

	if (sum == NULL) {
		/* Gauges and the rest: counted as seen, nothing kept. */
		if (m->data_case == AIMETER__OTLP__V1__METRIC__DATA_GAUGE) {
			res->records += m->gauge->n_data_points;
		}
		return 0;
	}
	for (size_t i = 0; i < sum->n_data_points; i++) {
		const Aimeter__Otlp__V1__NumberDataPoint *dp = sum->data_points[i];
		struct otlp_fields f = *resource;
		double v;

		if (dp->value_case == AIMETER__OTLP__V1__NUMBER_DATA_POINT__VALUE_AS_INT) {
			v = (double)dp->as_int;
		} else if (dp->value_case == AIMETER__OTLP__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE) {
			v = dp->as_double;
		} else {
			res->records++; /* no recorded value (flags bit 0): nothing to count */
			continue;
		}
		read_attrs(&f, dp->attributes, dp->n_attributes);
		if (!sum->is_monotonic) {
			res->records++;
			continue;
		}
		if (otlp_metric_point(&f, m->name, sum->aggregation_temporality == 2,
				      dp->start_time_unix_nano, dp->time_unix_nano, v, res) < 0) {
			return otlp_fail(res, OTLP_NOMEM, "out of memory");
		}
	}
	return 0;
}

static int
walk_metrics(const Aimeter__Otlp__V1__ExportMetricsServiceRequest *req, struct otlp_result *res)
{
	for (size_t r = 0; r < req->n_resource_metrics; r++) {
		const Aimeter__Otlp__V1__ResourceMetrics *rm = req->resource_metrics[r];
		struct otlp_fields resource;

		memset(&resource, 0, sizeof(resource));
		if (rm->resource != NULL) {
			read_attrs(&resource, rm->resource->attributes, rm->resource->n_attributes);
		}
		for (size_t s = 0; s < rm->n_scope_metrics; s++) {
			const Aimeter__Otlp__V1__ScopeMetrics *sm = rm->scope_metrics[s];

			for (size_t m = 0; m < sm->n_metrics; m++) {
				if (walk_metric(sm->metrics[m], &resource, res) < 0) {
					return -1;
				}
			}
		}
	}
	return 0;
}

int
otlp_decode_protobuf(enum otlp_signal signal, const uint8_t *buf, size_t len,
		     const struct otlp_limits *lim, struct otlp_result *res)
{
	static const ProtobufCMessageDescriptor *const top[OTLP_SIGNAL_MAX] = {
		[OTLP_LOGS] = &aimeter__otlp__v1__export_logs_service_request__descriptor,
		[OTLP_METRICS] = &aimeter__otlp__v1__export_metrics_service_request__descriptor,
		[OTLP_TRACES] = &aimeter__otlp__v1__export_trace_service_request__descriptor,
	};
	static const ProtobufCMessageDescriptor *const record[OTLP_SIGNAL_MAX] = {
		[OTLP_LOGS] = &aimeter__otlp__v1__log_record__descriptor,
		[OTLP_METRICS] = &aimeter__otlp__v1__number_data_point__descriptor,
		[OTLP_TRACES] = &aimeter__otlp__v1__span__descriptor,
	};
	struct scan s = { .lim = lim, .record = record[signal] };
	ProtobufCMessage *msg;
	int r = 0;

	if (scan_message(&s, top[signal], buf, len, 0, res) < 0) {
		return -1;
	}
	msg = protobuf_c_message_unpack(top[signal], NULL, len, buf);
	if (msg == NULL) {
		return otlp_fail(res, OTLP_BAD_MESSAGE, "not an OTLP export request");
	}
	if (signal == OTLP_LOGS) {
		r = walk_logs((const Aimeter__Otlp__V1__ExportLogsServiceRequest *)msg, res);
	} else if (signal == OTLP_METRICS) {
		r = walk_metrics((const Aimeter__Otlp__V1__ExportMetricsServiceRequest *)msg, res);
	} else {
		r = walk_traces((const Aimeter__Otlp__V1__ExportTraceServiceRequest *)msg, res);
	}
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}
