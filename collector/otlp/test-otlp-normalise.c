/*
 * test-otlp-normalise.c: each tool's mapping (normalise-*.c) from the
 * payload shapes their sources document to calls, actions and counters:
 * tokens into aimeter's buckets, the tool name pricing needs, one id per
 * call however often it is sent, and nothing outside the allowed list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "otlp.pb-c.h"
#include "test.h"

#define SECRET "AMRT-NORMALISE-SECRET"

/* kv: "key", "value", ... NULL; every value a stringValue (counts may be strings). */
static void
attrs(char *out, size_t size, const char *const *kv)
{
	size_t n = strlen(out);

	for (int i = 0; kv[i] != NULL; i += 2) {
		n += (size_t)snprintf(out + n, size - n, "%s{\"key\":\"%s\",\"value\":{\"stringValue\":\"%s\"}}",
				      i ? "," : "", kv[i], kv[i + 1]);
	}
}

/* One log record (time t ns) of a resource with service.name service. */
static int
log_json(const char *service, uint64_t t, const char *const *kv, struct otlp_result *res)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
		 "\"value\":{\"stringValue\":\"%s\"}}]},\"scopeLogs\":[{\"logRecords\":[{"
		 "\"timeUnixNano\":\"%llu\",\"body\":{\"stringValue\":\"" SECRET "\"},\"attributes\":[",
		 service, (unsigned long long)t);
	attrs(buf, sizeof(buf), kv);
	strncat(buf, "]}]}]}]}", sizeof(buf) - strlen(buf) - 1);
	memset(res, 0, sizeof(*res));
	return otlp_decode(OTLP_LOGS, OTLP_JSON, false, (const uint8_t *)buf, strlen(buf),
			   &otlp_default_limits, res);
}

/* One monotonic sum point of metric (delta) with kv as its attributes. */
static int
metric_json(const char *service, const char *metric, const char *const *kv, struct otlp_result *res)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
		 "\"value\":{\"stringValue\":\"%s\"}}]},\"scopeMetrics\":[{\"metrics\":[{\"name\":"
		 "\"%s\",\"sum\":{\"isMonotonic\":true,\"aggregationTemporality\":1,\"dataPoints\":[{"
		 "\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"1764806400000000000\",\"asDouble\":2.5,"
		 "\"attributes\":[",
		 service, metric);
	attrs(buf, sizeof(buf), kv);
	strncat(buf, "]}]}}]}]}]}", sizeof(buf) - strlen(buf) - 1);
	memset(res, 0, sizeof(*res));
	return otlp_decode(OTLP_METRICS, OTLP_JSON, false, (const uint8_t *)buf, strlen(buf),
			   &otlp_default_limits, res);
}

static const char *const codex_completed[] = {
	"event.name", "codex.sse_event", "event.kind", "response.completed",
	"event.timestamp", "2025-12-04T00:00:01.500Z", "conversation.id", "conv-1",
	"user.account_id", "acct-9", "model", "gpt-5-codex", "input_token_count", "1000",
	"output_token_count", "300", "cached_token_count", "400", "reasoning_token_count", "100",
	"tool_token_count", "0", "prompt", SECRET, NULL
};

TEST(codex_usage)
{
	struct otlp_result a, b;
	struct otlp_call *c;

	ASSERT_EQ(log_json("codex_exec", 1764806401500000000ull, codex_completed, &a), 0);
	ASSERT_UINT_EQ(a.n_calls, 1);
	c = &a.calls[0];
	ASSERT_STR_EQ(c->tool, "codex");
	ASSERT_STR_EQ(c->model, "gpt-5-codex");
	ASSERT_STR_EQ(c->session, "conv-1");
	ASSERT_STR_EQ(c->user, "acct-9");
	ASSERT_UINT_EQ(c->input, 600); /* cached tokens are inside input_token_count */
	ASSERT_UINT_EQ(c->cache_read, 400);
	ASSERT_UINT_EQ(c->output, 300); /* reasoning is inside output */
	ASSERT_UINT_EQ(c->cache_creation, 0);
	ASSERT_EQ(c->ts_ms, 1764806401500LL);
	/* A retried export: the same id. */
	ASSERT_EQ(log_json("codex_exec", 1764806401500000000ull, codex_completed, &b), 0);
	ASSERT_EQ(memcmp(a.calls[0].event_id, b.calls[0].event_id, 16), 0);
	otlp_result_finish(&b);
	/* Another call of the same session a moment later: another id. */
	ASSERT_EQ(log_json("codex_exec", 1764806401600000000ull, codex_completed, &b), 0);
	ASSERT_NE(memcmp(a.calls[0].event_id, b.calls[0].event_id, 16), 0);
	otlp_result_finish(&a);
	otlp_result_finish(&b);
}

TEST(codex_not_usage)
{
	static const char *const other_kind[] = { "event.name", "codex.sse_event", "event.kind",
						  "response.output_item.done", "conversation.id",
						  "c", NULL };
	static const char *const prompt[] = { "event.name", "codex.user_prompt", "prompt", SECRET,
					      NULL };
	struct otlp_result res;

	ASSERT_EQ(log_json("codex_exec", 1, other_kind, &res), 0);
	ASSERT_UINT_EQ(res.n_calls, 0);
	otlp_result_finish(&res);
	ASSERT_EQ(log_json("codex_exec", 1, prompt, &res), 0);
	ASSERT_UINT_EQ(res.n_calls + res.n_actions + res.rejected, 0);
	otlp_result_finish(&res);
}

TEST(codex_tool_result)
{
	static const char *const ok[] = { "event.name", "codex.tool_result", "tool_name",
					  "exec_command", "call_id", "call_1", "success", "true",
					  "arguments", SECRET, "output", SECRET, "conversation.id",
					  "conv-1", NULL };
	static const char *const mcp[] = { "event.name", "codex.tool_result", "tool_name",
					   "secret_server__do_it", "call_id", "call_2", "success",
					   "false", "mcp_server", "secret_server", NULL };
	static const char *const custom[] = { "event.name", "codex.tool_result", "tool_name",
					      "my_secret_tool", "call_id", "call_3", "success",
					      "true", NULL };
	struct otlp_result res;

	ASSERT_EQ(log_json("codex_exec", 1764806400000000000ull, ok, &res), 0);
	ASSERT_UINT_EQ(res.n_actions, 1);
	ASSERT_STR_EQ(res.actions[0].tool, "codex");
	ASSERT_STR_EQ(res.actions[0].tool_name, "exec_command");
	ASSERT_EQ(res.actions[0].kind, 3);     /* shell */
	ASSERT_EQ(res.actions[0].decision, 1); /* accepted */
	ASSERT_STR_EQ(res.actions[0].session, "conv-1");
	otlp_result_finish(&res);
	ASSERT_EQ(log_json("codex_exec", 1764806400000000000ull, mcp, &res), 0);
	ASSERT_UINT_EQ(res.n_actions, 1);
	ASSERT_STR_EQ(res.actions[0].tool_name, "mcp"); /* no server or tool name kept */
	ASSERT_EQ(res.actions[0].kind, 8);
	ASSERT_EQ(res.actions[0].decision, 3); /* error */
	otlp_result_finish(&res);
	/* A name Codex does not build in (a dynamic tool): its kind only. */
	ASSERT_EQ(log_json("codex_exec", 1764806400000000000ull, custom, &res), 0);
	ASSERT_STR_EQ(res.actions[0].tool_name, "other");
	otlp_result_finish(&res);
}

static const char *const gemini_response[] = {
	"event.name", "gemini_cli.api_response", "event.timestamp", "2025-12-04T00:00:02.000Z",
	"session.id", "sess-g", "user.email", "g@example.com", "model", "gemini-2.5-pro",
	"input_token_count", "1000", "output_token_count", "200", "cached_content_token_count",
	"300", "thoughts_token_count", "50", "tool_token_count", "7", "total_token_count", "1257",
	"response_text", SECRET, "prompt_id", "p1", NULL
};

TEST(gemini_usage)
{
	struct otlp_result res;
	struct otlp_call *c;

	ASSERT_EQ(log_json("gemini-cli", 1764806402000000000ull, gemini_response, &res), 0);
	ASSERT_UINT_EQ(res.n_calls, 1);
	c = &res.calls[0];
	ASSERT_STR_EQ(c->tool, "gemini-cli");
	ASSERT_STR_EQ(c->model, "gemini-2.5-pro");
	ASSERT_STR_EQ(c->session, "sess-g");
	ASSERT_STR_EQ(c->user, "g@example.com");
	ASSERT_UINT_EQ(c->input, 707); /* 1000 - 300 cached + 7 tool-use prompt */
	ASSERT_UINT_EQ(c->cache_read, 300);
	ASSERT_UINT_EQ(c->output, 250); /* thoughts are billed as output */
	otlp_result_finish(&res);
}

TEST(gemini_tool_call)
{
	static const char *const rejected[] = { "event.name", "gemini_cli.tool_call",
						"function_name", "run_shell_command", "decision",
						"reject", "success", "false", "function_args",
						SECRET, "session.id", "s", NULL };
	static const char *const edited[] = { "event.name", "gemini_cli.tool_call",
					      "function_name", "replace", "decision",
					      "auto_accept", "success", "true", NULL };
	struct otlp_result a, b;

	ASSERT_EQ(log_json("gemini-cli", 1764806400000000000ull, rejected, &a), 0);
	ASSERT_UINT_EQ(a.n_actions, 1);
	ASSERT_EQ(a.actions[0].kind, 3);
	ASSERT_EQ(a.actions[0].decision, 2); /* rejected */
	ASSERT_STR_EQ(a.actions[0].tool_name, "run_shell_command");
	ASSERT_EQ(log_json("gemini-cli", 1764806400000000000ull, edited, &b), 0);
	ASSERT_EQ(b.actions[0].kind, 1);
	ASSERT_EQ(b.actions[0].decision, 1);
	ASSERT_NE(memcmp(a.actions[0].action_id, b.actions[0].action_id, 16), 0);
	otlp_result_finish(&a);
	otlp_result_finish(&b);
}

TEST(claude_tool_events)
{
	static const char *const result[] = { "event.name", "tool_result", "tool_name", "Edit",
					      "tool_use_id", "toolu_1", "success", "true",
					      "tool_parameters", SECRET, NULL };
	static const char *const reject[] = { "event.name", "claude_code.tool_decision",
					      "tool_name", "mcp__secret__tool", "tool_use_id",
					      "toolu_2", "decision", "reject", NULL };
	static const char *const accept[] = { "event.name", "claude_code.tool_decision",
					      "tool_name", "Bash", "tool_use_id", "toolu_3",
					      "decision", "accept", NULL };
	static const char *const odd_name[] = { "event.name", "claude_code.tool_result",
						"tool_name", "/home/x/" SECRET, "tool_use_id",
						"toolu_4", "success", "false", NULL };
	struct otlp_result res;

	ASSERT_EQ(log_json("claude-code", 1764806400000000000ull, result, &res), 0);
	ASSERT_UINT_EQ(res.n_actions, 1);
	ASSERT_STR_EQ(res.actions[0].tool, "claude-code");
	ASSERT_STR_EQ(res.actions[0].tool_name, "Edit");
	ASSERT_EQ(res.actions[0].kind, 1);
	ASSERT_EQ(res.actions[0].decision, 1);
	otlp_result_finish(&res);
	ASSERT_EQ(log_json("claude-code", 1764806400000000000ull, reject, &res), 0);
	ASSERT_UINT_EQ(res.n_actions, 1);
	ASSERT_STR_EQ(res.actions[0].tool_name, "mcp");
	ASSERT_EQ(res.actions[0].decision, 2);
	otlp_result_finish(&res);
	/* An accepted decision waits for its result: no second record for one call. */
	ASSERT_EQ(log_json("claude-code", 1764806400000000000ull, accept, &res), 0);
	ASSERT_UINT_EQ(res.n_actions, 0);
	otlp_result_finish(&res);
	ASSERT_EQ(log_json("claude-code", 1764806400000000000ull, odd_name, &res), 0);
	ASSERT_UINT_EQ(res.n_actions, 1);
	ASSERT_STR_EQ(res.actions[0].tool_name, "other");
	ASSERT_EQ(res.actions[0].decision, 3);
	otlp_result_finish(&res);
}

TEST(counters)
{
	static const char *const edit[] = { "decision", "accept", "tool_name", "Edit", NULL };
	static const char *const active[] = { "type", "cli", NULL };
	static const char *const session[] = { "start_type", "fresh", NULL };
	static const char *const lines[] = { "type", "added", NULL };
	static const char *const odd[] = { "type", "/path/" SECRET, NULL };
	static const char *const codex_tool[] = { "tool", "shell", "success", "true", NULL };
	static const struct {
		const char *service, *metric, *tool, *kind;
		const char *const *kv;
	} cases[] = {
		{ "claude-code", "claude_code.code_edit_tool.decision", "claude-code", "accept", edit },
		{ "claude-code", "claude_code.active_time.total", "claude-code", "cli", active },
		{ "claude-code", "claude_code.session.count", "claude-code", "fresh", session },
		{ "claude-code", "claude_code.lines_of_code.count", "claude-code", "other", odd },
		{ "gemini-cli", "gemini_cli.lines.changed", "gemini-cli", "added", lines },
		{ "gemini-cli", "gemini_cli.tool.call.count", "gemini-cli", "accept", edit },
		{ "codex_exec", "codex.tool.call", "codex", "true", codex_tool },
	};
	struct otlp_result res;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(metric_json(cases[i].service, cases[i].metric, cases[i].kv, &res), 0);
		ASSERT_UINT_EQ(res.n_points, 1);
		ASSERT_STR_EQ(res.points[0].tool, cases[i].tool);
		ASSERT_STR_EQ(res.points[0].kind, cases[i].kind);
		ASSERT(!res.points[0].cumulative);
		ASSERT(res.points[0].value == 2.5);
		otlp_result_finish(&res);
	}
	/* A metric aimeter does not keep: seen, not kept. */
	ASSERT_EQ(metric_json("claude-code", "claude_code.cost.usage", lines, &res), 0);
	ASSERT_UINT_EQ(res.n_points, 0);
	ASSERT_UINT_EQ(res.records, 1);
	otlp_result_finish(&res);
}

/* A Copilot chat span, as protobuf: trace and span ids are its key. */
static size_t
genai_span_pb(const char *service, const char *op, uint8_t *buf)
{
	static const char *const keys[] = { "gen_ai.operation.name", "gen_ai.request.model",
					    "gen_ai.response.model", "gen_ai.usage.input_tokens",
					    "gen_ai.usage.output_tokens",
					    "gen_ai.usage.cache_read.input_tokens",
					    "gen_ai.input.messages" };
	Aimeter__Otlp__V1__AnyValue v[8], sv = AIMETER__OTLP__V1__ANY_VALUE__INIT;
	Aimeter__Otlp__V1__KeyValue kv[8], *kvp[8], skv = AIMETER__OTLP__V1__KEY_VALUE__INIT,
							 *skvp = &skv;
	Aimeter__Otlp__V1__Resource r = AIMETER__OTLP__V1__RESOURCE__INIT;
	Aimeter__Otlp__V1__Span sp = AIMETER__OTLP__V1__SPAN__INIT, *spp = &sp;
	Aimeter__Otlp__V1__ScopeSpans ss = AIMETER__OTLP__V1__SCOPE_SPANS__INIT, *ssp = &ss;
	Aimeter__Otlp__V1__ResourceSpans rs = AIMETER__OTLP__V1__RESOURCE_SPANS__INIT, *rsp = &rs;
	Aimeter__Otlp__V1__ExportTraceServiceRequest req =
		AIMETER__OTLP__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	static uint8_t tid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	static uint8_t sid[8] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 1 };
	const char *vals[] = { op, "claude-sonnet-4.5", "claude-sonnet-4.5-20250929", NULL, NULL,
			       NULL, SECRET };
	const int64_t ints[] = { 0, 0, 0, 5000, 800, 3000, 0 };

	for (int i = 0; i < 7; i++) {
		aimeter__otlp__v1__any_value__init(&v[i]);
		aimeter__otlp__v1__key_value__init(&kv[i]);
		if (vals[i] != NULL) {
			v[i].value_case = AIMETER__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE;
			v[i].string_value = (char *)vals[i];
		} else {
			v[i].value_case = AIMETER__OTLP__V1__ANY_VALUE__VALUE_INT_VALUE;
			v[i].int_value = ints[i];
		}
		kv[i].key = (char *)keys[i];
		kv[i].value = &v[i];
		kvp[i] = &kv[i];
	}
	sv.value_case = AIMETER__OTLP__V1__ANY_VALUE__VALUE_STRING_VALUE;
	sv.string_value = (char *)service;
	skv.key = "service.name";
	skv.value = &sv;
	r.attributes = &skvp;
	r.n_attributes = 1;
	sp.trace_id = (ProtobufCBinaryData){ 16, tid };
	sp.span_id = (ProtobufCBinaryData){ 8, sid };
	sp.name = "chat claude-sonnet-4.5";
	sp.end_time_unix_nano = 1764806403000000000ull;
	sp.attributes = kvp;
	sp.n_attributes = 7;
	ss.spans = &spp;
	ss.n_spans = 1;
	rs.resource = &r;
	rs.scope_spans = &ssp;
	rs.n_scope_spans = 1;
	req.resource_spans = &rsp;
	req.n_resource_spans = 1;
	return aimeter__otlp__v1__export_trace_service_request__pack(&req, buf);
}

TEST(genai_spans)
{
	uint8_t buf[2048];
	struct otlp_result res;
	size_t len = genai_span_pb("github-copilot", "chat", buf);

	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_TRACES, OTLP_PROTOBUF, false, buf, len, &otlp_default_limits,
			      &res),
		  0);
	ASSERT_UINT_EQ(res.records, 1);
	ASSERT_UINT_EQ(res.n_calls, 1);
	ASSERT_STR_EQ(res.calls[0].tool, "copilot-cli");
	ASSERT_STR_EQ(res.calls[0].model, "claude-sonnet-4.5-20250929");
	ASSERT_UINT_EQ(res.calls[0].input, 2000); /* 5000 - 3000 cache reads */
	ASSERT_UINT_EQ(res.calls[0].cache_read, 3000);
	ASSERT_UINT_EQ(res.calls[0].output, 800);
	ASSERT_EQ(res.calls[0].ts_ms, 1764806403000LL);
	otlp_result_finish(&res);
	/* invoke_agent sums its chats; Gemini's and Codex's spans repeat their events. */
	len = genai_span_pb("github-copilot", "invoke_agent", buf);
	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_TRACES, OTLP_PROTOBUF, false, buf, len, &otlp_default_limits,
			      &res),
		  0);
	ASSERT_UINT_EQ(res.n_calls, 0);
	otlp_result_finish(&res);
	len = genai_span_pb("gemini-cli", "chat", buf);
	memset(&res, 0, sizeof(res));
	ASSERT_EQ(otlp_decode(OTLP_TRACES, OTLP_PROTOBUF, false, buf, len, &otlp_default_limits,
			      &res),
		  0);
	ASSERT_UINT_EQ(res.n_calls, 0);
	otlp_result_finish(&res);
}

TEST(genai_span_json)
{
	static const char s[] =
		"{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
		"\"value\":{\"stringValue\":\"github-copilot\"}}]},\"scopeSpans\":[{\"spans\":[{"
		"\"traceId\":\"0102030405060708090A0B0C0D0E0F10\",\"spanId\":\"aabbccddeeff0001\","
		"\"name\":\"chat gpt-5\",\"endTimeUnixNano\":\"1764806403000000000\",\"attributes\":["
		"{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"gpt-5\"}},"
		"{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"5000\"}},"
		"{\"key\":\"gen_ai.usage.output_tokens\",\"value\":{\"intValue\":800}},"
		"{\"key\":\"gen_ai.usage.cache_read.input_tokens\",\"value\":{\"intValue\":3000}}]},"
		"{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"aabbccddeeff0002\","
		"\"name\":\"execute_tool bash\",\"endTimeUnixNano\":\"1764806403000000000\",\"attributes\":["
		"{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"execute_tool\"}},"
		"{\"key\":\"gen_ai.tool.name\",\"value\":{\"stringValue\":\"bash\"}},"
		"{\"key\":\"gen_ai.tool.call.id\",\"value\":{\"stringValue\":\"call_1\"}},"
		"{\"key\":\"gen_ai.tool.call.arguments\",\"value\":{\"stringValue\":\"" SECRET "\"}},"
		"{\"key\":\"process.exit.code\",\"value\":{\"intValue\":\"1\"}}]}]}]}]}";
	uint8_t buf[2048];
	struct otlp_result a, b;
	size_t len = genai_span_pb("github-copilot", "chat", buf);

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ASSERT_EQ(otlp_decode(OTLP_TRACES, OTLP_JSON, false, (const uint8_t *)s, strlen(s),
			      &otlp_default_limits, &a),
		  0);
	ASSERT_UINT_EQ(a.n_calls, 1);
	ASSERT_STR_EQ(a.calls[0].model, "gpt-5");
	/* The execute_tool span: one shell call whose process failed. */
	ASSERT_UINT_EQ(a.n_actions, 1);
	ASSERT_STR_EQ(a.actions[0].tool, "copilot-cli");
	ASSERT_STR_EQ(a.actions[0].tool_name, "bash");
	ASSERT_EQ(a.actions[0].kind, 3);
	ASSERT_EQ(a.actions[0].decision, 3);
	ASSERT_UINT_EQ(a.calls[0].input, 2000);
	/* The same span in protobuf has the same id. */
	ASSERT_EQ(otlp_decode(OTLP_TRACES, OTLP_PROTOBUF, false, buf, len, &otlp_default_limits,
			      &b),
		  0);
	ASSERT_EQ(memcmp(a.calls[0].event_id, b.calls[0].event_id, 16), 0);
	otlp_result_finish(&a);
	otlp_result_finish(&b);
}

int
main(void)
{
	RUN(codex_usage);
	RUN(codex_not_usage);
	RUN(codex_tool_result);
	RUN(gemini_usage);
	RUN(gemini_tool_call);
	RUN(claude_tool_events);
	RUN(counters);
	RUN(genai_spans);
	RUN(genai_span_json);
	return 0;
}
