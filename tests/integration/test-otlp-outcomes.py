#!/usr/bin/env python3
"""test-otlp-outcomes.py: the tools' OTLP counters and tool events in the outcome tables.

Claude Code's lines_of_code, commit and pull_request counts (delta and cumulative) and Gemini
CLI's lines.changed reach aimeter.actions_daily as rows of tool name 'otlp', exactly once across
retries, reordering, a collector restart and a counter reset, so the outcome view
reporting.action_outcomes_monthly shows them beside the tool calls that Claude Code's and
Codex's tool events became; edit decisions, active time and sessions stay in
aimeter.otlp_counters_daily only. Real collector (TLS) and PostgreSQL.
"""
import importlib.util
import json
import os
import subprocess
import time

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

NOW = time.time_ns()
T0 = NOW - 3000 * 10**9
EMAIL = "outcomes@example.com"


def kv(d):
    return [{"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else
             {"stringValue": v}} for k, v in d.items()]


def metrics(service, name, temporality, points):
    """points: (start ns, time ns, value, attributes)."""
    return json.dumps({"resourceMetrics": [{
        "resource": {"attributes": kv({"service.name": service, "user.email": EMAIL})},
        "scopeMetrics": [{"metrics": [{"name": name, "sum": {
            "isMonotonic": True, "aggregationTemporality": temporality, "dataPoints": [
                {"startTimeUnixNano": str(st), "timeUnixNano": str(ts), "asInt": str(v),
                 "attributes": kv(a)} for st, ts, v, a in points]}}]}]}]})


def logs(service, records):
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": kv({"service.name": service, "user.email": EMAIL})},
        "scopeLogs": [{"logRecords": [{"timeUnixNano": str(NOW + i), "attributes": kv(r)}
                                      for i, r in enumerate(records)]}]}]})


def outcomes(tool):
    """calls, accepted, rejected, errors, lines added, lines removed, commits, pull requests."""
    return h.psql(w, "SELECT calls, accepted, rejected, errors, ai_lines_added, "
                     "ai_lines_removed, commits, pull_requests "
                     "FROM reporting.action_outcomes_monthly WHERE tool = '%s'" % tool)


w = h.setup("otlp_outcomes")
h.psql(w, "UPDATE aimeter.settings SET min_group_size = 1")
col = h.Collector(w)
c = h.Client(w, col.port)
r = subprocess.run([h.CTL, "otlp-token", "create", "--name", "outcomes"], env=h.pg_env(w),
                   capture_output=True, text=True)
token = r.stdout.strip()


def post(path, body):
    st, _, data = c.request("POST", path, body, {"Content-Type": "application/json",
                                                 "Authorization": "Bearer " + token})
    if st != 200 or json.loads(data) != {}:
        h.fail("%s: %s %r" % (path, st, data))


LOC = "claude_code.lines_of_code.count"
added, removed = {"type": "added"}, {"type": "removed"}
cum = [metrics("claude-code", LOC, 2, [(T0, T0 + 1, 10, added), (T0, T0 + 1, 3, removed)]),
       metrics("claude-code", LOC, 2, [(T0, T0 + 2, 25, added), (T0, T0 + 2, 3, removed)])]
for b in (cum[0], cum[1], cum[1], cum[0]):
    post("/v1/metrics", b)
commits = metrics("claude-code", "claude_code.commit.count", 1, [(T0, T0 + 1, 2, {})])
prs = metrics("claude-code", "claude_code.pull_request.count", 1, [(T0, T0 + 1, 1, {})])
for b in (commits, commits, prs):
    post("/v1/metrics", b)
post("/v1/metrics", metrics("gemini-cli", "gemini_cli.lines.changed", 1,
                            [(T0, T0 + 1, 7, added), (T0, T0 + 1, 2, removed)]))
post("/v1/metrics", metrics("claude-code", "claude_code.code_edit_tool.decision", 1,
                            [(T0, T0 + 1, 4, {"decision": "accept", "tool_name": "Edit"})]))
post("/v1/metrics", metrics("claude-code", "claude_code.active_time.total", 1,
                            [(T0, T0 + 1, 90, {"type": "cli"})]))
h.check(outcomes("claude-code") == "0|0|0|0|25|3|2|1",
        "Claude's lines (cumulative), commits and pull requests in the outcome view, once (%s)"
        % outcomes("claude-code"))
h.check(outcomes("gemini-cli") == "0|0|0|0|7|2|0|0", "Gemini's lines in the outcome view (%s)"
        % outcomes("gemini-cli"))
src = h.psql(w, "SELECT DISTINCT tool_name || '/' || decision FROM aimeter.actions_daily")
h.check(src == "otlp/accepted", "the counters' rows say where they came from (%s)" % src)
kept = h.psql(w, "SELECT metric || ':' || kind || '=' || value::int FROM aimeter.otlp_counters_daily "
                 "WHERE metric ~ 'decision|active' ORDER BY 1")
h.check(kept == "claude_code.active_time.total:cli=90\nclaude_code.code_edit_tool.decision:accept=4",
        "edit decisions and active time kept as counters only (%s)" % kept)

# A restart and a reset: the series state is in PostgreSQL, the outcome rows follow it.
col.stop()
col = h.Collector(w, name="c2")
c = h.Client(w, col.port)
post("/v1/metrics", cum[1])
post("/v1/metrics", metrics("claude-code", LOC, 2, [(T0 + 5, T0 + 6, 4, added)]))
h.check(outcomes("claude-code") == "0|0|0|0|29|3|2|1",
        "after a restart a retry adds nothing and a reset counts its new run once (%s)"
        % outcomes("claude-code"))

# Tool events: one call each, decided by its result or its refusal.
claude = logs("claude-code", [
    {"event.name": "tool_result", "tool_name": "Edit", "tool_use_id": "toolu_a", "success": "true",
     "session.id": "s1"},
    {"event.name": "tool_decision", "tool_name": "Edit", "tool_use_id": "toolu_a",
     "decision": "accept", "session.id": "s1"},
    {"event.name": "tool_decision", "tool_name": "Write", "tool_use_id": "toolu_b",
     "decision": "reject", "session.id": "s1"},
    {"event.name": "tool_result", "tool_name": "Bash", "tool_use_id": "toolu_c",
     "success": "false", "session.id": "s1"}])
for _ in range(2):
    post("/v1/logs", claude)
h.check(outcomes("claude-code") == "3|1|1|1|29|3|2|1",
        "Claude's tool events: 3 calls (accepted, rejected, error), a retry adds nothing (%s)"
        % outcomes("claude-code"))
codex = logs("codex_exec", [{"event.name": "codex.tool_result", "tool_name": "apply_patch",
                             "call_id": "call_1", "success": "true", "conversation.id": "c1"}])
post("/v1/logs", codex)
h.check(outcomes("codex") == "1|1|0|0|0|0|0|0", "Codex's tool_result: one accepted call (%s)"
        % outcomes("codex"))
edits = h.psql(w, "SELECT count(*) FROM aimeter.action_edit_sessions")
h.check(edits == "2", "the sessions with an accepted edit (Claude's and Codex's)")
col.stop()
print("test-otlp-outcomes: all checks passed")
