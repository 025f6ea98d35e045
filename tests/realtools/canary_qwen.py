"""Qwen Code for canary.py: runs it against the chat-completions stand-in, reads its chat files.

Two readers, both from docs/tool-formats.md (Qwen Code):
- "telemetry": every system record with subtype ui_telemetry whose uiEvent is
  qwen-code.api_response, in projects/*/chats/*.jsonl. One per billed call, including the
  background memory extractor and sub-agent calls. Must equal every bill.
- "assistant": assistant records with usageMetadata in chats/*.jsonl and in
  subagents/<parent session>/agent-*.jsonl (model from the record, else the sub-agent's
  .meta.json). Must equal the bills less the background calls they never hold.
"""
import glob
import json
import os

import canary_gemini
import realtools
import standin

PACKAGE = "@qwen-code/qwen-code"
HANDLER = standin.ChatCompletionsHandler
HANDLER_ATTRS = {"tool_name": "qwen-code", "subagent": "general-purpose"}
MODELS = ["qwen3-coder-plus", "qwen3-max"]


def agent_args(root, home):
    """The agent reads projects/*/chats/ below ~/.qwen (source-qwen.c)."""
    return ["--qwen-dir", os.path.dirname(root)]


def unrecorded(call):
    return None  # The telemetry records hold every call.


def fixture(rel):
    return rel.startswith(".qwen/projects/") and ("/chats/" in rel or "/subagents/" in rel)


def scenarios(bindir, home, port, ledger):
    qwen_dir = os.path.join(home, ".qwen")
    work = os.path.join(home, "qwen-project")
    os.makedirs(qwen_dir)
    os.makedirs(work)
    canary_gemini.write_settings(qwen_dir, "openai")
    env = realtools.base_env(home)
    env.update({"OPENAI_API_KEY": "sk-amrt-dummy", "OPENAI_BASE_URL": "http://127.0.0.1:%d/v1" % port,
                "OPENAI_MODEL": MODELS[0], "NO_COLOR": "1"})
    qwen = os.path.join(bindir, "qwen")
    p = standin.SECRET_PROMPT

    def go(what, prompt, *args):
        out = realtools.run([qwen, "-p", prompt, "--output-format", "json"] + list(args), env, work,
                            "qwen " + what)
        result = [e for e in json.loads(out) if e.get("type") == "result"][0]
        assert not result.get("is_error"), result
        return result

    go("new session", p + " say hi")
    n = len(ledger.calls)
    go("shell tool round trip, continued", p + " AMRT-TOOL run it", "--continue", "--yolo")
    assert [c["reply"] for c in ledger.calls[n:]][:2] == ["tool_use", "after_tool"], ledger.calls[n:]
    n = len(ledger.calls)
    go("sub-agent, other model", p + " AMRT-TASK delegate it", "-m", MODELS[1], "--yolo")
    assert any(c["sub"] for c in ledger.calls[n:]), "the sub-agent made no model call"
    return os.path.join(qwen_dir, "projects")


def _buckets(prompt, cand, thoughts, total, cached):
    # Gemini-native usage keeps thoughts outside the candidates; OpenAI-compatible has them inside.
    native = thoughts > 0 and total == prompt + cand + thoughts
    return {"input": max(0, prompt - cached), "cache_read": cached,
            "output": cand + thoughts if native else cand, "reasoning": thoughts}


def _lines(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def read(root, home):
    telemetry, assistant, background = {}, {}, set()
    for path in sorted(glob.glob(os.path.join(root, "*", "chats", "*.jsonl"))):
        for r in _lines(path):
            ev = (r.get("systemPayload") or {}).get("uiEvent") or {}
            if r.get("type") == "system" and r.get("subtype") == "ui_telemetry" \
                    and ev.get("event.name") == "qwen-code.api_response":
                if str(ev.get("subagent_name", "")).startswith("managed-"):
                    background.add(ev.get("response_id"))
                telemetry[r["uuid"]] = dict(
                    model=ev["model"], day=ev["event.timestamp"][:10],
                    **_buckets(ev.get("input_token_count") or 0, ev.get("output_token_count") or 0,
                               ev.get("thoughts_token_count") or 0, ev.get("total_token_count") or 0,
                               ev.get("cached_content_token_count") or 0))
            elif r.get("type") == "assistant" and isinstance(r.get("usageMetadata"), dict):
                assistant[r["uuid"]] = (r, r.get("model"))
    for path in sorted(glob.glob(os.path.join(root, "*", "subagents", "*", "*.jsonl"))):
        with open(path[:-len(".jsonl")] + ".meta.json", encoding="utf-8") as f:
            meta_model = json.load(f).get("model")
        for r in _lines(path):
            if r.get("type") == "assistant" and isinstance(r.get("usageMetadata"), dict):
                assistant[r["uuid"]] = (r, r.get("model") or meta_model)
    rows = []
    for r, model in assistant.values():
        u = r["usageMetadata"]
        rows.append(dict(model=model, day=r["timestamp"][:10],
                         **_buckets(u.get("promptTokenCount") or 0, u.get("candidatesTokenCount") or 0,
                                    u.get("thoughtsTokenCount") or 0, u.get("totalTokenCount") or 0,
                                    u.get("cachedContentTokenCount") or 0)))
    # The stand-in's response ids name its call numbers: the background calls have no assistant record.
    skip = {int(i.rsplit("-", 1)[1]) for i in background if i and i.startswith("chatcmpl-amrt-")}
    return [("telemetry", list(telemetry.values()), lambda c: True),
            ("assistant", rows, lambda c: c["n"] not in skip)]
