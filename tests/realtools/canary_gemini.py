"""Gemini CLI for canary.py: runs it against the Gemini API stand-in, reads its chat files.

The reader follows docs/tool-formats.md (Gemini CLI): message objects with type "gemini"
and a tokens object, in JSONL lines, in "$set.messages" checkpoints and in legacy .json
documents; key <sessionId>/<message id>, the latest copy with tokens wins.
"""
import glob
import json
import os

import realtools
import standin

PACKAGE = "@google/gemini-cli"
HANDLER = standin.GeminiHandler
HANDLER_ATTRS = {}
MODELS = ["gemini-2.5-pro", "gemini-2.5-flash"]


def agent_args(root, home):
    """The agent reads tmp/*/chats/ below ~/.gemini (source-gemini.c)."""
    return ["--gemini-dir", os.path.dirname(root)]


def unrecorded(call):
    # The model router's classifier (model "auto") is billed but never written to a chat file.
    return "model router classifier" if call["reply"] == "utility" else None


def fixture(rel):
    return rel.startswith(".gemini/tmp/") and "/chats/" in rel


def write_settings(config_dir, auth, **general):
    """settings.json of Gemini CLI and of its fork Qwen Code: the auth type, no telemetry, no updates."""
    with open(os.path.join(config_dir, "settings.json"), "w") as f:
        json.dump({"security": {"auth": {"selectedType": auth}},
                   "privacy": {"usageStatisticsEnabled": False},
                   "general": dict(general, disableAutoUpdate=True, disableUpdateNag=True),
                   "telemetry": {"enabled": False}}, f)


def scenarios(bindir, home, port, ledger):
    gem = os.path.join(home, ".gemini")
    work = os.path.join(home, "gemini-project")
    os.makedirs(gem)
    os.makedirs(work)
    # Session cleanup runs at every start, concurrently with a resume, and deletes a session
    # file it reads between the resume's first and second checkpoint (docs/tool-formats.md).
    write_settings(gem, "gemini-api-key", sessionRetention={"enabled": False})
    env = realtools.base_env(home)
    env.update({"GEMINI_API_KEY": "amrt-dummy", "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:%d" % port,
                "GEMINI_CLI_TRUST_WORKSPACE": "true", "NO_COLOR": "1"})
    gemini = os.path.join(bindir, "gemini")
    p = standin.SECRET_PROMPT

    def go(what, prompt, *args):
        out = realtools.run([gemini, "-p", prompt, "--output-format", "json"] + list(args), env, work,
                            "gemini " + what)
        return json.loads(out[out.index("{"):])

    first = go("new session", p + " say hi", "-m", MODELS[0])
    assert first.get("response"), first
    n = len(ledger.calls)
    go("shell tool round trip, resumed", p + " AMRT-TOOL run it", "--resume", "latest", "-m", MODELS[0],
       "--yolo")
    assert [c["reply"] for c in ledger.calls[n:]] == ["tool_use", "after_tool"], ledger.calls[n:]
    n = len(ledger.calls)
    go("sub-agent, other model", p + " AMRT-TASK delegate it", "-m", MODELS[1], "--yolo")
    assert any(c["sub"] for c in ledger.calls[n:]), "the sub-agent made no model call"
    n = len(ledger.calls)
    go("auto model (router)", p + " route it")
    assert any(c["reply"] == "utility" for c in ledger.calls[n:]), "no router call"
    return os.path.join(gem, "tmp")


def _messages(path):
    """Yields (sessionId, message) for every message object of one chat file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        doc = json.loads(text)
        for m in doc.get("messages") or []:
            yield doc.get("sessionId"), m
        return
    sid = None
    for line in text.split("\n"):
        if not line.strip():
            continue
        rec = json.loads(line)
        if sid is None:
            sid = rec.get("sessionId")  # The header.
            continue
        if isinstance(rec.get("$set"), dict):
            for m in rec["$set"].get("messages") or []:
                yield sid, m
        elif isinstance(rec.get("id"), str):
            yield sid, rec


def read(root, home):
    found = {}
    for path in sorted(glob.glob(os.path.join(root, "*", "chats", "**", "*.json*"), recursive=True)):
        if not path.endswith((".json", ".jsonl")):
            continue
        model = "unknown"
        for sid, m in _messages(path):
            if m.get("type") != "gemini":
                continue
            model = m.get("model") or model
            t = m.get("tokens")
            if not isinstance(t, dict):
                continue
            inp, cached = t.get("input") or 0, t.get("cached") or 0
            found["%s/%s" % (sid, m["id"])] = {
                "model": model, "day": m["timestamp"][:10],
                "input": max(0, inp - cached) + (t.get("tool") or 0), "cache_read": cached,
                "output": (t.get("output") or 0) + (t.get("thoughts") or 0),
                "reasoning": t.get("thoughts") or 0}
    return [("chats", list(found.values()), lambda c: True)]
