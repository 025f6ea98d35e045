#!/usr/bin/env python3
"""Marker strings planted in prompts, replies, tool inputs, working
directories, branch names and remote URLs of the generated logs (asserted to
be there first; the generators of Gemini CLI, Qwen Code, Copilot CLI, Amp, OpenCode and
Cursor plant their own, Cursor's also in the login tokens of its database;
gen-actions plants one in commands, file paths, patch bodies and MCP arguments
of its tool calls) never appear in any byte the agent sends (decompressed
request bodies, recorded by a TLS proxy, action records included), keeps in
its spools and state, or the collector stores (every usage and action row).
Totals stay exact. The same markers, planted in what Claude Code, Codex, Gemini CLI and
Copilot CLI export over OTLP (prompts, replies, tool arguments and outputs, tool and MCP
names, error messages, file paths, span messages), never reach a stored row or the
collector's log either, while the calls and tool calls in those exports are stored."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

MARK = {"prompt": "MKPROMPT9q", "reply": "MKREPLY9q", "tool": "MKTOOL9q", "cwd": "MKCWD9q",
        "branch": "MKBRANCH9q", "remote": "MKREMOTE9q",
        # tool calls (docs/actions.md): commands, file paths, patch bodies, MCP names and arguments
        "command": "MKCMD9q", "path": "MKPATH9q", "patch": "MKPATCH9q", "mcp": "MKMCP9q"}
REMOTE = "https://mkuser:MKPASS9q@git.example.com/org/%s.git" % MARK["remote"]


def plant(v, key=None, role=None):
    """Rewrite text-bearing fields; leave ids, models, usage and times alone."""
    if isinstance(v, dict):
        role = v.get("role", role)
        out = {}
        for k, x in v.items():
            if k == "input" and isinstance(x, dict):
                out[k] = {"command": "rm -rf /tmp/%s && git commit -m %s && gh pr create" %
                                     (MARK["tool"], MARK["command"]),
                          "file_path": "/home/dev/%s/a.py" % MARK["path"],
                          "new_string": "*** Begin Patch\n+%s\n" % MARK["patch"],
                          "args": {"q": MARK["mcp"]}}
            elif k == "name" and v.get("type") == "tool_use" and sum(map(ord, str(v.get("id")))) % 2:
                out[k] = "mcp__%s__create_pull_request" % MARK["mcp"]
            else:
                out[k] = plant(x, k, role)
        return out
    if isinstance(v, list):
        return [plant(x, key, role) for x in v]
    if not isinstance(v, str):
        return v
    if key == "cwd":
        return "/home/dev/%s/repo" % MARK["cwd"]
    if key in ("gitBranch", "branch"):
        return "feature/%s" % MARK["branch"]
    if key == "repository_url":
        return REMOTE
    if key in ("text", "content", "message", "base_instructions", "output", "arguments"):
        return "%s %s" % (MARK["reply"] if role == "assistant" else MARK["prompt"], v[:40])
    return v


def plant_file(path):
    out = []
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    for i, raw in enumerate(lines):
        try:
            obj = json.loads(raw)
        except ValueError:
            out.append(raw)  # invalid and torn lines stay as they are
            continue
        if isinstance(obj, dict):
            obj = plant(obj)
            if obj.get("type") == "session_meta" and isinstance(obj.get("payload"), dict):
                obj["payload"].setdefault("git", {})
                obj["payload"]["git"] = {"repository_url": REMOTE,
                                         "branch": "feature/%s" % MARK["branch"]}
        out.append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())
    st = os.stat(path)
    with open(path, "wb") as f:
        f.write(b"\n".join(out))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def otlp_exports(now_ns):
    """(path, body) of each tool's OTLP export with the markers in every content attribute."""
    def kv(d):
        return [{"key": k, "value": {"intValue": v} if isinstance(v, int) else {"stringValue": v}}
                for k, v in d.items()]

    def logs(service, records):
        return {"resourceLogs": [{"resource": {"attributes": kv({"service.name": service})},
                                  "scopeLogs": [{"logRecords": [
                                      {"timeUnixNano": str(now_ns + i), "body": {"stringValue":
                                       "%s %s" % (MARK["reply"], MARK["path"])},
                                       "attributes": kv(r)} for i, r in enumerate(records)]}]}]}

    secret = "%s /home/dev/%s/a.py %s" % (MARK["prompt"], MARK["path"], MARK["command"])
    claude = logs("claude-code", [
        {"event.name": "user_prompt", "prompt": secret, "session.id": "otlp-s1"},
        {"event.name": "tool_result", "tool_name": "Bash", "tool_use_id": "toolu_otlp_1",
         "success": "false", "error": "failed: " + secret, "tool_parameters": secret,
         "tool_input": secret, "session.id": "otlp-s1"},
        {"event.name": "tool_decision", "tool_name": "mcp__%s__create" % MARK["mcp"],
         "tool_use_id": "toolu_otlp_2", "decision": "reject", "session.id": "otlp-s1"},
        {"event.name": "api_error", "error": secret, "model": "claude-opus-4-1"}])
    codex = logs("codex_exec", [
        {"event.name": "codex.user_prompt", "prompt": secret, "conversation.id": "otlp-c1"},
        {"event.name": "codex.sse_event", "event.kind": "response.completed",
         "conversation.id": "otlp-c1", "model": "gpt-5-codex", "input_token_count": 900,
         "output_token_count": 90, "cached_token_count": 300},
        {"event.name": "codex.tool_result", "tool_name": "%s_tool" % MARK["tool"],
         "call_id": "call_otlp_1", "arguments": secret, "output": secret, "success": "true",
         "conversation.id": "otlp-c1"},
        {"event.name": "codex.api_request", "error.message": secret}])
    gemini = logs("gemini-cli", [
        {"event.name": "gemini_cli.user_prompt", "prompt": secret, "session.id": "otlp-g1"},
        {"event.name": "gemini_cli.api_response", "model": "gemini-2.5-pro", "session.id":
         "otlp-g1", "input_token_count": 800, "output_token_count": 80,
         "cached_content_token_count": 100, "response_text": secret},
        {"event.name": "gemini_cli.tool_call", "function_name": MARK["tool"], "decision":
         "accept", "success": "true", "function_args": secret, "session.id": "otlp-g1"}])
    span = {"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102030405060708",
            "name": "chat gpt-5", "endTimeUnixNano": str(now_ns),
            "status": {"code": 2, "message": secret},
            "attributes": kv({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-5",
                              "gen_ai.usage.input_tokens": 700, "gen_ai.usage.output_tokens": 70,
                              "gen_ai.conversation.id": "otlp-p1",
                              "gen_ai.input.messages": secret, "gen_ai.output.messages": secret})}
    tool_span = dict(span, spanId="0102030405060709", name="execute_tool " + MARK["tool"],
                     attributes=kv({"gen_ai.operation.name": "execute_tool",
                                    "gen_ai.tool.call.arguments": secret}))
    copilot = {"resourceSpans": [{"resource": {"attributes": kv({"service.name": "github-copilot"})},
                                  "scopeSpans": [{"spans": [span, tool_span]}]}]}
    metric = {"resourceMetrics": [{"resource": {"attributes": kv({"service.name": "claude-code"})},
               "scopeMetrics": [{"metrics": [{"name": "claude_code.lines_of_code.count", "sum": {
                   "isMonotonic": True, "aggregationTemporality": 1, "dataPoints": [{
                       "startTimeUnixNano": str(now_ns - 10**9), "timeUnixNano": str(now_ns),
                       "asInt": "5", "attributes": kv({"type": "/home/dev/%s" % MARK["path"],
                                                       "tool_name": MARK["tool"]})}]}}]}]}]}
    return [("/v1/logs", claude), ("/v1/logs", codex), ("/v1/logs", gemini),
            ("/v1/traces", copilot), ("/v1/metrics", metric)]


def all_bytes(root):
    for d, _, files in os.walk(root):
        for n in files:
            with open(os.path.join(d, n), "rb") as f:
                yield os.path.join(d, n), f.read()


c = h.Cluster("privacy")
rec = None
try:
    c.start()
    logs, info = h.generate(c.dir)
    want = h.truth_totals(logs)
    for path, _ in list(all_bytes(logs)):
        if path.endswith(".jsonl"):
            plant_file(path)
    # Claude names a project's folder after its working directory.
    proj = os.path.join(logs, "claude", "projects")
    first = sorted(os.listdir(proj))[0]
    os.rename(os.path.join(proj, first), os.path.join(proj, "-home-dev-%s-repo" % MARK["cwd"]))
    blob = b"".join(b for p, b in all_bytes(logs) if not p.endswith(".json"))
    for k, m in MARK.items():
        if m.encode() not in blob:
            h.fail("marker for %s was not planted" % k)
    h.log("planted %s in %d bytes of logs" % (", ".join(MARK.values()), len(blob)))
    # The newer tools: their generators plant markers of their own (markers.json).
    sources = "[sources]\n"
    for tool, key in (("gemini-cli", "gemini"), ("qwen-code", "qwen"),
                      ("copilot-cli", "copilot"), ("amp", "amp"), ("opencode", "opencode"),
                      ("cursor", "cursor")):
        out = os.path.join(c.dir, tool)
        h.run([sys.executable, os.path.join(os.path.dirname(h.GEN), "gen-" + tool), out])
        want.update(h.truth_totals(out))
        for k, m in json.load(open(os.path.join(out, "markers.json"))).items():
            MARK["%s %s" % (tool, k)] = m.split()[0]  # the ASCII part
        sources += "%s_dirs = %s\n" % (key, os.path.join(out, key))

    # Tool calls of every kind (gen-actions): the daemon ships them as action records.
    acts, MARK["gen-actions"] = h.generate_actions(os.path.join(c.dir, "gen-actions"))
    n_gen_actions = sum(r[0] for r in h.action_truth(acts).values())
    roots = {k: "%s,%s" % (os.path.join(logs, k), os.path.join(acts, k)) for k in ("claude", "codex")}

    rec = h.Recorder(c)
    a = h.Agent(c, logs, url=rec.url, roots=roots,
                extra=sources + "[ship]\nbatch_events = 200\n[actions]\nsettle_seconds = 1\n")
    a.start()
    want = h.add_totals(want, h.jsonl_totals([e for e in h.parse_jsonl(
        a.cli("scan", "--format", "jsonl", "--claude-dir", os.path.join(acts, "claude"),
              "--codex-dir", os.path.join(acts, "codex"))[0])]))
    h.wait_totals(c, want, agent=a)
    end = __import__("time").time() + 60
    while int(h.psql(c.db, "SELECT count(*) FROM aimeter.action_events")) < n_gen_actions:
        if __import__("time").time() > end:
            h.fail("the daemon did not ship the action records:\n" + a.log()[-3000:])
        __import__("time").sleep(0.3)
    a.stop()
    # The tools' own OTLP exports, straight to the collector with an OTLP token.
    import hashlib
    import http.client
    import ssl
    import time
    token = "e2e-privacy-otlp-token"
    h.psql(c.db, "INSERT INTO aimeter.otlp_tokens (name, token_hash) VALUES ('e2e-privacy', "
                 "decode('%s', 'hex'))" % hashlib.sha256(token.encode()).hexdigest())
    for path, body in otlp_exports(time.time_ns()):
        conn = http.client.HTTPSConnection("127.0.0.1", c.port, timeout=60,
                                           context=ssl.create_default_context(cafile=c.ca))
        conn.request("POST", path, body=json.dumps(body), headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + token})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            h.fail("OTLP %s: %d" % (path, r.status))
    n_otlp = h.psql(c.db, "SELECT (SELECT count(*) FROM aimeter.usage_events WHERE session LIKE "
                          "'otlp-%') || '|' || (SELECT count(*) FROM "
                          "aimeter.action_events WHERE session LIKE 'otlp-%')")
    if n_otlp != "3|4":
        h.fail("the OTLP exports' calls and tool calls were not stored: %s" % n_otlp)
    sent = b"".join(b for _, _, b in rec.bodies)
    h.log("recorded %d requests, %d bytes decompressed" % (len(rec.bodies), len(sent)))
    if len([p for p, _, _ in rec.bodies if p == "/v1/batches"]) == 0:
        h.fail("no batch went through the recorder")
    leaks = []
    for k, m in list(MARK.items()) + [("password", "MKPASS9q")]:
        if m.encode() in sent:
            leaks.append("%s marker in a request body" % k)
        for path, b in all_bytes(a.state):
            if m.encode() in b:
                leaks.append("%s marker in %s" % (k, path))
        # the raw log paths must not be kept either
        for path, b in all_bytes(a.state):
            if proj.encode() in b:
                leaks.append("a log path in %s" % path)
    # the local scan prints action records from the same calls: no marker either
    import subprocess
    r = subprocess.run([h.AGENT, "scan", "-c", a.conf, "--format", "jsonl"], env=a.env,
                       capture_output=True, check=True)
    if b'"record":"action"' not in r.stdout:
        h.fail("scan printed no action record")
    for k, m in MARK.items():
        if m.encode() in r.stdout:
            leaks.append("%s marker in scan output" % k)
    stored = "".join(h.psql(c.db, "SELECT coalesce(string_agg(row_to_json(x)::text, ''), '') "
                                  "FROM aimeter.%s x" % t)
                     for t in ("usage_events", "action_events", "actions_daily",
                               "otlp_counters_daily"))
    stored += open(c.log_path, errors="replace").read()
    if '"kind":"' not in stored:
        h.fail("no action row stored")
    for k, m in MARK.items():
        if m in stored:
            leaks.append("%s marker in the database" % k)
    if leaks:
        h.fail("leaked: " + "; ".join(sorted(set(leaks))))
    h.log("no marker in any request body, spool, state file or stored row (%s action rows)"
          % h.psql(c.db, "SELECT count(*) FROM aimeter.action_events"))
finally:
    if rec is not None:
        rec.close()
    c.close()
print("ok")
