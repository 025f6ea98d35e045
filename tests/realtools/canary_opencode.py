"""OpenCode for canary.py: runs it against the chat-completions stand-in, reads its database.

The reader follows docs/tool-formats.md (OpenCode): assistant rows of the `message` table
(and of `session_message` where a build writes it) in every opencode*.db of the data dir,
opened read-only with its WAL, plus the legacy storage/message/*/*.json files; one event per
message id whose tokens are not all zero, the database winning over a JSON copy.
"""
import glob
import json
import os
import sqlite3
import time

import realtools
import standin

PACKAGE = "opencode-ai"
HANDLER = standin.ChatCompletionsHandler
HANDLER_ATTRS = {"tool_name": "opencode", "subagent": "general"}
MODELS = ["qwen3-coder", "gpt-oss-120b"]


def agent_args(root, home):
    """The agent reads every opencode*.db and storage/message/ in the data dir (source-opencode.c)."""
    return ["--opencode-dir", root]


def unrecorded(call):
    # The session title is asked of the model with no tools offered; it is never stored as a message.
    return "session title" if not call["tools"] else None


def fixture(rel):
    return rel.startswith(".local/share/opencode/") and (rel.endswith(".db") or "/storage/message/" in rel)


def scenarios(bindir, home, port, ledger):
    cfg = os.path.join(home, ".config", "opencode")
    work = os.path.join(home, "opencode-project")
    os.makedirs(cfg)
    os.makedirs(work)
    with open(os.path.join(cfg, "opencode.json"), "w") as f:
        json.dump({"autoupdate": False, "share": "disabled", "model": "amrt/" + MODELS[0],
                   "provider": {"amrt": {"npm": "@ai-sdk/openai-compatible", "name": "aimeter stand-in",
                                         "options": {"baseURL": "http://127.0.0.1:%d/v1" % port,
                                                     "apiKey": "sk-amrt-dummy"},
                                         "models": {m: {"name": m} for m in MODELS}}}}, f)
    env = realtools.base_env(home)
    # OpenCode tries to npm-install its plugin package into the config dir at start: a dead
    # registry keeps the test off the network (it carries on without the plugin).
    env.update({"OPENCODE_DISABLE_MODELS_FETCH": "1", "OPENCODE_DISABLE_AUTOUPDATE": "1",
                "OPENCODE_DISABLE_SHARE": "1", "npm_config_registry": "http://127.0.0.1:9/",
                "NO_COLOR": "1"})
    oc = os.path.join(bindir, "opencode")
    p = standin.SECRET_PROMPT

    def go(what, prompt, *args):
        return realtools.run([oc, "run", prompt] + list(args), env, work, "opencode " + what)

    go("new session", p + " say hi")
    n = len(ledger.calls)
    go("shell tool round trip, continued", p + " AMRT-TOOL run it", "-c", "--auto")
    assert [c["reply"] for c in ledger.calls[n:]] == ["tool_use", "after_tool"], ledger.calls[n:]
    n = len(ledger.calls)
    go("sub-agent, other model", p + " AMRT-TASK delegate it", "-m", "amrt/" + MODELS[1], "--auto")
    assert any(c["sub"] for c in ledger.calls[n:]), "the sub-agent made no model call"
    return os.path.join(home, ".local", "share", "opencode")


def _row(msg_id, data, created):
    """An event from one message's JSON, or None; data lacks id and sessionID in the database."""
    if data.get("role", "assistant") != "assistant":
        return None
    t = data.get("tokens") or {}
    cache = t.get("cache") or {}
    inp, out, rsn = t.get("input") or 0, t.get("output") or 0, t.get("reasoning") or 0
    read, write = cache.get("read") or 0, cache.get("write") or 0
    if not (inp or out or rsn or read or write):
        return None
    # Builds before anomalyco/opencode#21047 counted reasoning inside output (total shows it).
    inside = t.get("total") is not None and rsn > 0 and t["total"] == inp + out + read + write
    model = data.get("modelID") or (data.get("model") or {}).get("id")
    ms = (data.get("time") or {}).get("created") or created
    return {"id": msg_id, "model": model, "day": time.strftime("%Y-%m-%d", time.gmtime(ms / 1000)),
            "input": inp, "output": out if inside else out + rsn, "reasoning": rsn,
            "cache_read": read, "cache_write_5m": write}


def read(root, home):
    found = {}
    for path in sorted(glob.glob(os.path.join(root, "storage", "message", "*", "*.json"))):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        r = _row(data["id"], data, 0)
        if r:
            found[r["id"]] = r
    for db in sorted(glob.glob(os.path.join(root, "opencode*.db"))):
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
            queries = ["select id, time_created, data from message"]
            if "session_message" in tables:
                queries.append("select id, time_created, data from session_message where type = 'assistant'")
            for q in queries:
                for msg_id, created, data in con.execute(q):
                    r = _row(msg_id, json.loads(data), created)
                    if r:
                        found[msg_id] = r  # The database wins over a JSON copy.
        finally:
            con.close()
    return [("database", list(found.values()), lambda c: True)]
