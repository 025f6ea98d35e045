"""GitHub Copilot CLI for canary.py: runs it with a BYOK provider pointing at the
chat-completions stand-in, reads the three places it records usage.

Readers, from docs/tool-formats.md (Copilot CLI):
- "otel": chat spans of the OpenTelemetry file export (COPILOT_OTEL_FILE_EXPORTER_PATH);
- "events": session.usage_record events of ~/.copilot/session-state/<id>/events.jsonl;
- "store": rows of assistant_usage_events in ~/.copilot/session-store.db.
Each must equal every bill. A last run uses the anthropic provider type against the
Messages API stand-in, whose bills have cache writes.
"""
import glob
import json
import os
import sqlite3
import time

import realtools
import standin

PACKAGE = "@github/copilot"
HANDLER = standin.ChatCompletionsHandler
HANDLER_ATTRS = {"tool_name": "copilot-cli", "subagent": "general-purpose"}
MODELS = ["gpt-5.2", "claude-sonnet-4.5"]


def unrecorded(call):
    return None


def fixture(rel):
    return (rel.startswith(".copilot/session-state/") and rel.endswith("/events.jsonl")) \
        or rel in (".copilot/session-store.db", "copilot-otel.jsonl")


def scenarios(bindir, home, port, ledger):
    work = os.path.join(home, "copilot-project")
    os.makedirs(work)
    env = realtools.base_env(home)
    env.update({"COPILOT_PROVIDER_BASE_URL": "http://127.0.0.1:%d/v1" % port,
                "COPILOT_PROVIDER_TYPE": "openai", "COPILOT_PROVIDER_API_KEY": "sk-amrt-dummy",
                "COPILOT_OFFLINE": "1", "COPILOT_AUTO_UPDATE": "false",
                "COPILOT_OTEL_ENABLED": "true", "COPILOT_OTEL_EXPORTER_TYPE": "file",
                "COPILOT_OTEL_FILE_EXPORTER_PATH": os.path.join(home, "copilot-otel.jsonl"),
                "NO_COLOR": "1"})
    cp = os.path.join(bindir, "copilot")
    p = standin.SECRET_PROMPT

    def go(what, prompt, *args):
        return realtools.run([cp, "-p", prompt, "--allow-all-tools"] + list(args), env, work,
                             "copilot " + what)

    go("new session", p + " say hi", "--model", MODELS[0])
    n = len(ledger.calls)
    go("shell tool round trip, continued", p + " AMRT-TOOL run it", "--continue", "--model", MODELS[0])
    assert [c["reply"] for c in ledger.calls[n:]] == ["tool_use", "after_tool"], ledger.calls[n:]
    n = len(ledger.calls)
    go("sub-agent, other model", p + " AMRT-TASK delegate it", "--model", MODELS[1])
    assert any(c["sub"] for c in ledger.calls[n:]), "the sub-agent made no model call"
    # The anthropic provider type reports cache writes, which the OpenAI one never does.
    srv, a_port = standin.serve(standin.AnthropicHandler, ledger)
    try:
        env.update(COPILOT_PROVIDER_BASE_URL="http://127.0.0.1:%d" % a_port, COPILOT_PROVIDER_TYPE="anthropic")
        go("anthropic provider, cache writes", p + " say hi", "--model", MODELS[1])
    finally:
        srv.shutdown()
    return os.path.join(home, ".copilot")


def _span_rows(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            a = r.get("attributes") or {}
            if r.get("type") != "span" or not (a.get("gen_ai.operation.name") == "chat"
                                                or (a.get("gen_ai.operation.name") is None
                                                    and r.get("name", "").startswith("chat "))):
                continue
            inp = a.get("gen_ai.usage.input_tokens") or 0
            read = a.get("gen_ai.usage.cache_read.input_tokens") or 0
            write = (a.get("gen_ai.usage.cache_creation.input_tokens")
                     or a.get("gen_ai.usage.cache_write.input_tokens") or 0)
            out = a.get("gen_ai.usage.output_tokens") or 0
            if not (inp or out):
                continue
            secs = r["endTime"][0]
            rows["%s/%s" % (r["traceId"], r["spanId"])] = {
                "model": a.get("gen_ai.response.model") or a.get("gen_ai.request.model"),
                "day": _day(secs), "input": max(0, inp - read - write), "cache_read": read,
                "cache_write_5m": write, "output": out,
                "reasoning": (a.get("gen_ai.usage.reasoning.output_tokens")
                              or a.get("gen_ai.usage.reasoning_tokens") or 0)}
    return list(rows.values())


def _day(secs):
    return time.strftime("%Y-%m-%d", time.gmtime(secs))


def _usage_row(model, ts, inp, out, read, write, reasoning):
    # Copilot's inputTokens include the cached tokens, as OpenAI's prompt_tokens do.
    return {"model": model, "day": ts[:10], "input": max(0, inp - read - write), "cache_read": read,
            "cache_write_5m": write, "output": out, "reasoning": reasoning}


def read(root, home):
    events = {}
    for path in sorted(glob.glob(os.path.join(root, "session-state", "*", "events.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line) if line.strip() else {}
                if r.get("type") != "session.usage_record":
                    continue
                u = r["data"]["usage"]
                key = (u.get("accounting") or {}).get("usageId") or u.get("apiCallId") or r["id"]
                events[key] = _usage_row(u["model"], r["timestamp"], u.get("inputTokens") or 0,
                                         u.get("outputTokens") or 0, u.get("cacheReadTokens") or 0,
                                         u.get("cacheWriteTokens") or 0, u.get("reasoningTokens") or 0)
    store = []
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(root, "session-store.db"), uri=True, timeout=5)
    try:
        for row in con.execute("select model, created_at, input_tokens, output_tokens, cache_read_tokens, "
                               "cache_write_tokens, reasoning_tokens from assistant_usage_events"):
            store.append(_usage_row(*[v or 0 if i > 1 else v for i, v in enumerate(row)]))
    finally:
        con.close()
    every = lambda c: True  # noqa: E731
    return [("otel", _span_rows(os.path.join(home, "copilot-otel.jsonl")), every),
            ("events", list(events.values()), every), ("store", store, every)]
