/*
 * normalise.c: the attributes aimeter reads from OTLP records and what they
 * become; see decode.h. The allowed list is the table below: a key not in
 * it is never copied, so prompt text, tool parameters, bodies, error
 * messages and file paths cannot reach a row whatever the sender enabled.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "digest.h"
#include "event_id.h"
#include "timestamp.h"

static const char *const key_names[OK_KEY_MAX] = {
	[OK_EVENT_NAME] = "event.name",
	[OK_EVENT_TIMESTAMP] = "event.timestamp",
	[OK_EVENT_SEQUENCE] = "event.sequence",
	[OK_SESSION] = "session.id",
	[OK_REQUEST_ID] = "request_id",
	[OK_MODEL] = "model",
	[OK_INPUT] = "input_tokens",
	[OK_OUTPUT] = "output_tokens",
	[OK_CACHE_READ] = "cache_read_tokens",
	[OK_CACHE_CREATION] = "cache_creation_tokens",
	[OK_EMAIL] = "user.email",
	[OK_ACCOUNT_UUID] = "user.account_uuid",
	[OK_SPEED] = "speed",
	[OK_SERVICE] = "service.name",
	[OK_TYPE] = "type",
};

/* The counters kept from metrics, with the tool they belong to. */
static const struct {
	const char *metric, *tool;
} kept_metrics[] = {
	{ "claude_code.lines_of_code.count", "claude-code" },
	{ "claude_code.commit.count", "claude-code" },
	{ "claude_code.pull_request.count", "claude-code" },
};

/* Claude Code's event for one model call, long and short forms. */
#define API_REQUEST_LONG "claude_code.api_request"
#define API_REQUEST_SHORT "api_request"
#define CLAUDE_SERVICE "claude-code"
#define EVENT_ID_TOOL "claude-code"
/* Distinct from the agent's transcript keys (message ids): an OTLP copy of a
 * call never shares an id with a transcript record by accident. */
#define EVENT_KEY_PREFIX "otlp:"

enum otlp_key
otlp_key_of(const char *key, size_t len)
{
	for (int k = 0; k < OK_KEY_MAX; k++) {
		if (strlen(key_names[k]) == len && memcmp(key_names[k], key, len) == 0) {
			return (enum otlp_key)k;
		}
	}
	return OK_KEY_MAX;
}

void
otlp_fields_set(struct otlp_fields *f, enum otlp_key k, const char *s, size_t len)
{
	if (k >= OK_KEY_MAX) {
		return;
	}
	if (len >= sizeof(f->v[k])) {
		len = sizeof(f->v[k]) - 1;
	}
	memcpy(f->v[k], s, len);
	f->v[k][len] = '\0';
	f->set[k] = true;
}

void
otlp_fields_attr(struct otlp_fields *f, const char *key, size_t key_len, const char *val,
		 size_t val_len)
{
	struct digest_sha256 c;
	uint8_t h[DIGEST_SHA256_SIZE];

	/* Order-free: a sender may list the same attributes in another order. */
	digest_sha256_init(&c);
	digest_sha256_update(&c, key, key_len);
	digest_sha256_update(&c, "", 1);
	digest_sha256_update(&c, val, val_len);
	digest_sha256_final(&c, h);
	for (size_t i = 0; i < sizeof(h); i++) {
		f->attrs_xor[i] ^= h[i];
	}
	otlp_fields_set(f, otlp_key_of(key, key_len), val, val_len);
}

int
otlp_metric_point(const struct otlp_fields *f, const char *metric, bool cumulative,
		  uint64_t start_ns, uint64_t time_ns, double value, struct otlp_result *res)
{
	struct digest_sha256 c;
	struct otlp_point p;
	size_t k, n = sizeof(kept_metrics) / sizeof(kept_metrics[0]);

	res->records++;
	for (k = 0; k < n && strcmp(kept_metrics[k].metric, metric) != 0; k++) {
	}
	if (k == n) {
		return 0; /* accepted, not kept */
	}
	if (!isfinite(value) || value < 0 || time_ns == 0) {
		res->rejected++;
		return 0;
	}
	memset(&p, 0, sizeof(p));
	digest_sha256_init(&c);
	digest_sha256_update(&c, metric, strlen(metric) + 1);
	digest_sha256_update(&c, f->attrs_xor, sizeof(f->attrs_xor));
	digest_sha256_final(&c, p.series);
	snprintf(p.metric, sizeof(p.metric), "%s", metric);
	snprintf(p.tool, sizeof(p.tool), "%s", kept_metrics[k].tool);
	snprintf(p.kind, sizeof(p.kind), "%.*s", (int)sizeof(p.kind) - 1, f->v[OK_TYPE]);
	snprintf(p.user, sizeof(p.user), "%s",
		 f->v[OK_EMAIL][0] != '\0' ? f->v[OK_EMAIL] : f->v[OK_ACCOUNT_UUID]);
	p.cumulative = cumulative;
	p.start_ns = start_ns;
	p.time_ns = time_ns;
	p.value = value;
	if (res->n_points == res->cap_points) {
		size_t cap = res->cap_points ? res->cap_points * 2 : 16;
		struct otlp_point *q = realloc(res->points, cap * sizeof(*q));
		if (q == NULL) {
			return -ENOMEM;
		}
		res->points = q;
		res->cap_points = cap;
	}
	res->points[res->n_points++] = p;
	return 0;
}

int
otlp_fail(struct otlp_result *res, enum otlp_error error, const char *fmt, ...)
{
	va_list ap;

	res->error = error;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* A count sent as an int, a double or a string of either ("Numeric event
 * attributes may arrive as strings"). Returns 0 or -EINVAL. */
static int
count_of(const struct otlp_fields *f, enum otlp_key k, uint64_t *ret)
{
	const char *s = f->v[k];
	char *end;
	double d;

	if (!f->set[k] || s[0] == '\0') {
		*ret = 0;
		return 0;
	}
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d) || d < 0 || d > 9.2e18) {
		return -EINVAL;
	}
	*ret = (uint64_t)d;
	return 0;
}

static bool
is_api_request(const struct otlp_fields *f)
{
	const char *name = f->v[OK_EVENT_NAME];

	if (strcmp(name, API_REQUEST_LONG) == 0) {
		return true;
	}
	return strcmp(name, API_REQUEST_SHORT) == 0 &&
	       strncmp(f->v[OK_SERVICE], CLAUDE_SERVICE, strlen(CLAUDE_SERVICE)) == 0;
}

static int
push_call(struct otlp_result *res, const struct otlp_call *c)
{
	if (res->n_calls == res->cap_calls) {
		size_t cap = res->cap_calls ? res->cap_calls * 2 : 16;
		struct otlp_call *p = realloc(res->calls, cap * sizeof(*p));
		if (p == NULL) {
			return -ENOMEM;
		}
		res->calls = p;
		res->cap_calls = cap;
	}
	res->calls[res->n_calls++] = *c;
	return 0;
}

int
otlp_log_record(const struct otlp_fields *f, struct otlp_result *res)
{
	struct otlp_call c;
	char key[300];
	int n;

	res->records++;
	if (!is_api_request(f)) {
		return 0; /* other events: accepted, nothing of them kept */
	}
	memset(&c, 0, sizeof(c));
	/* One call, one id, however often the export is retried. */
	if (f->v[OK_REQUEST_ID][0] != '\0') {
		n = snprintf(key, sizeof(key), EVENT_KEY_PREFIX "req:%s", f->v[OK_REQUEST_ID]);
	} else if (f->v[OK_SESSION][0] != '\0' && f->v[OK_EVENT_SEQUENCE][0] != '\0') {
		n = snprintf(key, sizeof(key), EVENT_KEY_PREFIX "seq:%s#%s", f->v[OK_SESSION],
			     f->v[OK_EVENT_SEQUENCE]);
	} else {
		res->rejected++;
		return 0;
	}
	am_event_id(EVENT_ID_TOOL, key, (size_t)n, c.event_id);
	if (f->v[OK_EVENT_TIMESTAMP][0] == '\0' ||
	    ts_parse_ms(f->v[OK_EVENT_TIMESTAMP], &c.ts_ms) < 0) {
		if (f->time_ns == 0) {
			res->rejected++;
			return 0;
		}
		c.ts_ms = (int64_t)(f->time_ns / 1000000u);
	}
	if (count_of(f, OK_INPUT, &c.input) < 0 || count_of(f, OK_OUTPUT, &c.output) < 0 ||
	    count_of(f, OK_CACHE_READ, &c.cache_read) < 0 ||
	    count_of(f, OK_CACHE_CREATION, &c.cache_creation) < 0) {
		res->rejected++;
		return 0;
	}
	snprintf(c.model, sizeof(c.model), "%s", f->v[OK_MODEL]);
	snprintf(c.session, sizeof(c.session), "%s", f->v[OK_SESSION]);
	snprintf(c.user, sizeof(c.user), "%s",
		 f->v[OK_EMAIL][0] != '\0' ? f->v[OK_EMAIL] : f->v[OK_ACCOUNT_UUID]);
	/* The agent's words: "standard" or "fast". */
	snprintf(c.speed, sizeof(c.speed), "%s",
		 strcmp(f->v[OK_SPEED], "fast") == 0 ? "fast" :
		 f->v[OK_SPEED][0] != '\0'	      ? "standard" :
							"");
	return push_call(res, &c);
}
