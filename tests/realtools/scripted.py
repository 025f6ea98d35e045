"""Scripted sessions for the loopback stand-ins: the model replies with a fixed list of tool calls.

The main conversation (a prompt holding SCRIPT_MARKER, a request that offers tools) is answered
step by step: step k is the number of tool results the request already carries, so a reply never
depends on the order or count of the tool's side requests (titles, summaries). Every request of
the main conversation also snapshots the workspace (its files and its commit count), so the
test can tell what each tool call really changed. Everything else goes to the plain stand-in.
"""
import json
import os
import subprocess
import threading

import standin

SCRIPT_MARKER = "AMRT-SCRIPT"


def snapshot(work):
    """The workspace now: {relative path: text} of files outside .git, and the commit count."""
    files = {}
    for d, dirs, names in os.walk(work):
        dirs[:] = [x for x in dirs if x != ".git"]
        for n in names:
            p = os.path.join(d, n)
            with open(p, encoding="utf-8", errors="replace") as f:
                files[os.path.relpath(p, work)] = f.read()
    n = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=work, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL).stdout.decode().strip()
    return {"files": files, "commits": int(n or 0)}


class Script:
    """The replies of one session and what the workspace looked like before each of them."""

    def __init__(self, work, steps):
        self.work = work
        self.steps = steps  # Tool calls: dicts {"name", "input"}; a text reply follows the last.
        self.lock = threading.Lock()
        self.seen = {}  # step -> snapshot taken when the request for that step arrived
        self.requests = 0

    def observe(self, step):
        with self.lock:
            self.requests += 1
            if step not in self.seen:
                self.seen[step] = snapshot(self.work)

    def reply(self, step):
        return self.steps[step] if step < len(self.steps) else None


def _claude_results(messages):
    return sum(1 for m in messages if isinstance(m.get("content"), list)
               for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result")


class ScriptedAnthropic(standin.AnthropicHandler):
    """The Messages API stand-in answering the scripted conversation from the class's script."""
    script = None

    def _body(self):
        self._req = super()._body()
        return self._req

    def _reply_blocks(self, last, tools, n):
        msgs = self._req.get("messages") or []
        first = json.dumps(msgs[0].get("content")) if msgs else ""
        if SCRIPT_MARKER not in first or not tools:
            return standin.AnthropicHandler._reply_blocks(last, tools, n)
        step = _claude_results(msgs)
        self.script.observe(step)
        think = {"type": "thinking", "thinking": "%s step %d" % (standin.SECRET_REPLY, step),
                 "signature": "c2lnbmF0dXJl%04d" % n}
        call = self.script.reply(step)
        if call is None:
            return [think, {"type": "text", "text": "%s script done" % standin.SECRET_REPLY}]
        return [think, {"type": "tool_use", "id": "toolu_amrt_s%02d_%04d" % (step, n),
                        "name": call["name"], "input": call["input"]}]


class ScriptedOpenAI(standin.OpenAIHandler):
    """The Responses API stand-in answering the scripted conversation, and Codex's automatic
    approval reviewer (`--approve-for-me`): it denies the actions whose text holds DENY_REVIEW."""
    script = None

    def _output_item(self, body, last, n):
        if _is_review(body):
            deny = DENY_REVIEW in json.dumps(body.get("input"))
            verdict = {"risk_level": "critical" if deny else "low", "user_authorization": "unknown",
                       "outcome": "deny" if deny else "allow", "rationale": "stand-in %d" % n}
            self.ledger.note("review: " + verdict["outcome"])
            return {"type": "message", "role": "assistant", "id": "msg_amrt_%04d" % n,
                    "status": "completed", "content": [{"type": "output_text", "text": json.dumps(verdict),
                                                        "annotations": []}]}
        step = codex_step(body, self.script)
        if step is None:
            return super()._output_item(body, last, n)
        return codex_item(body, self.script.reply(step), step, n)


DENY_REVIEW = "gh pr create"


def _is_review(req):
    """A request of Codex's approval reviewer: it asks for a JSON verdict with an outcome."""
    fmt = (req.get("text") or {}).get("format") or {}
    return fmt.get("type") == "json_schema" and "outcome" in json.dumps(fmt.get("schema"))


def codex_step(req, script):
    """The step a Responses request asks for (observed), or None when it is not the script's."""
    items = req.get("input") or []
    text = json.dumps([i for i in items if isinstance(i, dict) and i.get("type") == "message"
                       and i.get("role") == "user"])
    if SCRIPT_MARKER not in text or not req.get("tools"):
        return None
    step = sum(1 for i in items if isinstance(i, dict)
               and i.get("type") in ("function_call_output", "custom_tool_call_output"))
    script.observe(step)
    return step


def codex_item(req, call, step, n):
    """The output item for a scripted call (a text message after the last one)."""
    if call is None:
        return {"type": "message", "role": "assistant", "id": "msg_amrt_%04d" % n, "status": "completed",
                "content": [{"type": "output_text", "text": "%s script done" % standin.SECRET_REPLY,
                             "annotations": []}]}
    decls = {t.get("name"): t for t in req.get("tools") or [] if isinstance(t, dict)}
    name, args = call["name"], call["input"]
    cid = "call_amrt_s%02d_%04d" % (step, n)
    if name == "apply_patch" and (decls.get(name) or {}).get("type") == "custom":
        return {"type": "custom_tool_call", "id": "ctc_amrt_%04d" % n, "call_id": cid, "name": name,
                "input": args["input"], "status": "completed"}
    return {"type": "function_call", "id": "fc_amrt_%04d" % n, "call_id": cid, "name": name,
            "arguments": json.dumps(args), "status": "completed"}
