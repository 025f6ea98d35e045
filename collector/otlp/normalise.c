/*
 * normalise.c: the attributes aimeter reads from OTLP records, and which
 * tool's normaliser each record goes to (normalise-claude.c, -codex.c,
 * -gemini.c, -genai.c); see decode.h. The allowed list is the table below:
 * a key not in it is never copied, so prompt text, tool parameters, bodies,
 * error messages and file paths cannot reach a row whatever the sender
 * enabled.
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
#include "hex.h"
#include "normalise.h"
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
	[OK_TOOL_NAME] = "tool_name",
	[OK_TOOL_USE_ID] = "tool_use_id",
	[OK_CALL_ID] = "call_id",
	[OK_SUCCESS] = "success",
	[OK_DECISION] = "decision",
	[OK_START_TYPE] = "start_type",
	[OK_FUNCTION_NAME] = "function_name",
	[OK_TOOL_TYPE] = "tool_type",
	[OK_MCP_SERVER] = "mcp_server",
	[OK_CONVERSATION] = "conversation.id",
	[OK_EVENT_KIND] = "event.kind",
	[OK_ACCOUNT_ID] = "user.account_id",
	[OK_INPUT_COUNT] = "input_token_count",
	[OK_OUTPUT_COUNT] = "output_token_count",
	[OK_CACHED_COUNT] = "cached_token_count",
	[OK_CACHE_WRITE_COUNT] = "cache_write_token_count",
	[OK_CACHED_CONTENT_COUNT] = "cached_content_token_count",
	[OK_THOUGHTS_COUNT] = "thoughts_token_count",
	[OK_TOOL_COUNT] = "tool_token_count",
	[OK_GENAI_OPERATION] = "gen_ai.operation.name",
	[OK_GENAI_RESPONSE_MODEL] = "gen_ai.response.model",
	[OK_GENAI_REQUEST_MODEL] = "gen_ai.request.model",
	[OK_GENAI_INPUT] = "gen_ai.usage.input_tokens",
	[OK_GENAI_OUTPUT] = "gen_ai.usage.output_tokens",
	[OK_GENAI_CACHE_READ] = "gen_ai.usage.cache_read.input_tokens",
	[OK_GENAI_CACHE_CREATION] = "gen_ai.usage.cache_creation.input_tokens",
	[OK_GENAI_CACHE_WRITE] = "gen_ai.usage.cache_write.input_tokens",
	[OK_GENAI_CONVERSATION] = "gen_ai.conversation.id",
	[OK_GENAI_TOOL_NAME] = "gen_ai.tool.name",
	[OK_GENAI_TOOL_CALL_ID] = "gen_ai.tool.call.id",
	[OK_EXIT_CODE] = "process.exit.code",
	/* No attribute has these names: the span walkers set them. */
	[OK_SPAN_NAME] = "\x01span.name",
	[OK_SPAN_KEY] = "\x01span.key",
	[OK_SPAN_ERROR] = "\x01span.error",
};

/*
 * The counters kept from metrics (monotonic sums), with the tool they belong
 * to and the attribute that splits them (its value becomes the row's kind).
 */
static const struct {
	const char *metric, *tool;
	enum otlp_key kind;
} kept_metrics[] = {
	{ "claude_code.lines_of_code.count", "claude-code", OK_TYPE },
	{ "claude_code.commit.count", "claude-code", OK_KEY_MAX },
	{ "claude_code.pull_request.count", "claude-code", OK_KEY_MAX },
	{ "claude_code.code_edit_tool.decision", "claude-code", OK_DECISION },
	{ "claude_code.active_time.total", "claude-code", OK_TYPE },
	{ "claude_code.session.count", "claude-code", OK_START_TYPE },
	{ "gemini_cli.lines.changed", "gemini-cli", OK_TYPE },
	{ "gemini_cli.session.count", "gemini-cli", OK_KEY_MAX },
	{ "gemini_cli.tool.call.count", "gemini-cli", OK_DECISION },
	{ "codex.thread.started", "codex", OK_KEY_MAX },
	{ "codex.tool.call", "codex", OK_SUCCESS },
};

/* Records without an id of their own get one from their content. */
#define EVENT_KEY_PREFIX "otlp:"
enum otlp_key
otlp_key_of(const char *key, size_t len)
{
	for (int k = 0; k < OK_SPAN_NAME; k++) {
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

/* A counter's kind: the splitting attribute's value when it is a plain word, else "other". */
static void
kind_of(const struct otlp_fields *f, enum otlp_key k, char *out, size_t size)
{
	const char *v = k < OK_KEY_MAX ? f->v[k] : "";
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-')) {
			n = size; /* not a word: never stored as it is */
			break;
		}
	}
	snprintf(out, size, "%s", n < size ? v : "other");
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
	kind_of(f, kept_metrics[k].kind, p.kind, sizeof(p.kind));
	snprintf(p.user, sizeof(p.user), "%s", normalise_user(f));
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

/* ---- the dispatcher ------------------------------------------------------------ */

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
otlp_log_record(const struct otlp_fields *f, struct otlp_result *res)
{
	const char *name = f->v[OK_EVENT_NAME], *service = f->v[OK_SERVICE];

	res->records++;
	/* By the event's own prefix first: a sender may rename its service. */
	if (starts_with(name, "claude_code.") || starts_with(service, "claude-code")) {
		return normalise_claude_log(f, res);
	}
	if (starts_with(name, "codex.") || starts_with(service, "codex")) {
		return normalise_codex_log(f, res);
	}
	if (starts_with(name, "gemini_cli.") || starts_with(service, "gemini-cli")) {
		return normalise_gemini_log(f, res);
	}
	return 0; /* another sender's events: accepted, nothing of them kept */
}

int
otlp_span(const struct otlp_fields *f, struct otlp_result *res)
{
	res->records++;
	/*
	 * Claude Code, Codex and Gemini CLI put the same usage on spans as on
	 * the events counted above: only a tool that reports through spans
	 * alone is read here, or a call would count twice.
	 */
	if (strstr(f->v[OK_SERVICE], "copilot") != NULL) {
		return normalise_genai_span(f, "copilot-cli", res);
	}
	return 0;
}

/* ---- what the normalisers share ------------------------------------------------ */

bool
normalise_is(const struct otlp_fields *f, enum otlp_key k, const char *s)
{
	return f->set[k] && strcmp(f->v[k], s) == 0;
}

bool
normalise_event_is(const struct otlp_fields *f, const char *service_prefix,
		   const char *long_name)
{
	const char *name = f->v[OK_EVENT_NAME], *dot = strchr(long_name, '.');

	if (strcmp(name, long_name) == 0) {
		return true;
	}
	return dot != NULL && strcmp(name, dot + 1) == 0 &&
	       starts_with(f->v[OK_SERVICE], service_prefix);
}

int
normalise_count(const struct otlp_fields *f, enum otlp_key k, uint64_t *ret)
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

int
normalise_time_ms(const struct otlp_fields *f, int64_t *ret)
{
	if (f->v[OK_EVENT_TIMESTAMP][0] != '\0' && ts_parse_ms(f->v[OK_EVENT_TIMESTAMP], ret) == 0) {
		return 0;
	}
	if (f->time_ns == 0) {
		return -EINVAL;
	}
	*ret = (int64_t)(f->time_ns / 1000000u);
	return 0;
}

const char *
normalise_user(const struct otlp_fields *f)
{
	if (f->v[OK_EMAIL][0] != '\0') {
		return f->v[OK_EMAIL];
	}
	return f->v[OK_ACCOUNT_UUID][0] != '\0' ? f->v[OK_ACCOUNT_UUID] : f->v[OK_ACCOUNT_ID];
}

void
normalise_record_id(const struct otlp_fields *f, const char *tool, uint8_t ret_id[16])
{
	char key[sizeof(EVENT_KEY_PREFIX) + 8 + 2 * sizeof(f->attrs_xor) + 24];
	char hex[2 * sizeof(f->attrs_xor) + 1];
	int n;

	hex_encode(f->attrs_xor, sizeof(f->attrs_xor), hex);
	n = snprintf(key, sizeof(key), EVENT_KEY_PREFIX "rec:%s@%llu", hex,
		     (unsigned long long)f->time_ns);
	am_event_id(tool, key, (size_t)n, ret_id);
}

/* The session: session.id, else Codex's conversation.id, else the GenAI one. */
static const char *
session_of(const struct otlp_fields *f)
{
	if (f->v[OK_SESSION][0] != '\0') {
		return f->v[OK_SESSION];
	}
	return f->v[OK_CONVERSATION][0] != '\0' ? f->v[OK_CONVERSATION] :
						   f->v[OK_GENAI_CONVERSATION];
}

int
normalise_call(const struct otlp_fields *f, const char *tool, const uint8_t id[16],
	       const char *model, uint64_t input, uint64_t output, uint64_t cache_read,
	       uint64_t cache_creation, struct otlp_result *res)
{
	struct otlp_call c;

	memset(&c, 0, sizeof(c));
	memcpy(c.event_id, id, sizeof(c.event_id));
	if (normalise_time_ms(f, &c.ts_ms) < 0) {
		res->rejected++;
		return 0;
	}
	snprintf(c.tool, sizeof(c.tool), "%s", tool);
	snprintf(c.model, sizeof(c.model), "%s", model);
	snprintf(c.session, sizeof(c.session), "%s", session_of(f));
	snprintf(c.user, sizeof(c.user), "%s", normalise_user(f));
	/* The API's id of the call: the agent ships the same from the transcript. */
	snprintf(c.request_id, sizeof(c.request_id), "%s", f->v[OK_REQUEST_ID]);
	c.input = input;
	c.output = output;
	c.cache_read = cache_read;
	c.cache_creation = cache_creation;
	if (res->n_calls == res->cap_calls) {
		size_t cap = res->cap_calls ? res->cap_calls * 2 : 16;
		struct otlp_call *p = realloc(res->calls, cap * sizeof(*p));
		if (p == NULL) {
			return -ENOMEM;
		}
		res->calls = p;
		res->cap_calls = cap;
	}
	res->calls[res->n_calls++] = c;
	return 0;
}

int
normalise_kind_lookup(const struct normalise_kind *table, size_t n, const char *name,
		      bool *ret_builtin)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(table[i].name, name) == 0) {
			*ret_builtin = true;
			return table[i].kind;
		}
	}
	*ret_builtin = false;
	return NK_OTHER;
}

/* A built-in tool's name: a letter, then letters, digits and '_' (no "mcp__…"). */
static bool
plain_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) ||
	    starts_with(s, "mcp__")) {
		return false;
	}
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_')) {
			return false;
		}
	}
	return true;
}

int
normalise_action(const struct otlp_fields *f, const char *tool, const char *call_id,
		 const char *name, int kind, int decision, struct otlp_result *res)
{
	static const char *const kind_words[] = { "", "edit", "write", "shell", "commit",
						  "pull_request", "subagent", "skill", "mcp",
						  "web", "other" };
	struct otlp_action a;
	char key[200];
	int n;

	memset(&a, 0, sizeof(a));
	if (normalise_time_ms(f, &a.ts_ms) < 0 || kind < NK_EDIT || kind > NK_OTHER) {
		res->rejected++;
		return 0;
	}
	if (call_id[0] != '\0') {
		/* The agent's own id for the call (docs/actions.md), so the two can meet. */
		n = snprintf(key, sizeof(key), "action:%s", call_id);
		am_event_id(tool, key, (size_t)n < sizeof(key) ? (size_t)n : sizeof(key) - 1,
			    a.action_id);
	} else {
		normalise_record_id(f, tool, a.action_id);
	}
	snprintf(a.tool, sizeof(a.tool), "%s", tool);
	snprintf(a.session, sizeof(a.session), "%s", session_of(f));
	snprintf(a.user, sizeof(a.user), "%s", normalise_user(f));
	snprintf(a.tool_name, sizeof(a.tool_name), "%s",
		 kind != NK_MCP && plain_name(name, sizeof(a.tool_name)) ? name : kind_words[kind]);
	a.kind = kind;
	a.decision = decision;
	if (res->n_actions == res->cap_actions) {
		size_t cap = res->cap_actions ? res->cap_actions * 2 : 16;
		struct otlp_action *p = realloc(res->actions, cap * sizeof(*p));
		if (p == NULL) {
			return -ENOMEM;
		}
		res->actions = p;
		res->cap_actions = cap;
	}
	res->actions[res->n_actions++] = a;
	return 0;
}
