"""Loopback stand-ins for the Anthropic Messages API and the OpenAI Responses API.

Each streams scripted replies (SSE) with known, distinct usage and records every
call it billed: tool, model, UTC day and the token buckets in the agent's terms
(input = uncached input, output incl. reasoning, cache writes, cache reads).
Nothing here talks to the network beyond 127.0.0.1.
"""
import http.server
import json
import os
import threading
import time
import uuid

# Markers the scripted conversation uses; the privacy check looks for them in the scan output.
SECRET_PROMPT = "AMRT-PROMPT-zebra"
SECRET_REPLY = "AMRT-REPLY-walrus"


def _utc_day():
    return time.strftime("%Y-%m-%d", time.gmtime())


class Ledger:
    """What the servers billed; one entry per completed model call."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []
        self.n = 0
        self.unbilled = []  # requests answered without usage (count_tokens, models, ...)

    def next_n(self):
        with self.lock:
            self.n += 1
            return self.n

    def bill(self, entry):
        with self.lock:
            self.calls.append(entry)

    def note(self, what):
        with self.lock:
            self.unbilled.append(what)


def _text_of(content):
    if isinstance(content, str):
        return content
    out = []
    for b in content or []:
        if isinstance(b, dict):
            if b.get("type") == "text":
                out.append(b.get("text", ""))
            elif b.get("type") == "tool_result":
                out.append("\x00tool_result")
    return "\n".join(out)


def _agent_id(output):
    """The agent id in a spawn_agent result, whatever text or JSON wraps it."""
    text = output if isinstance(output, str) else json.dumps(output)
    try:
        obj = json.loads(text)
        for k in ("agent_id", "id", "target"):
            if isinstance(obj, dict) and isinstance(obj.get(k), str):
                return obj[k]
    except ValueError:
        pass
    return text.strip()


class _Base(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ledger = None

    def log_message(self, fmt, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        dump = os.environ.get("AMRT_STANDIN_DUMP")
        if dump:  # For studying a new tool's requests; never set by the tests.
            with open(dump, "ab") as f:
                f.write(b"%s %s\n%s\n" % (self.command.encode(), self.path.encode(), raw))
        return json.loads(raw) if raw else {}

    def _json(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events, extra_headers=()):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        for k, v in extra_headers:
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        for name, data in events:
            self.wfile.write(("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode())
            self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        self.ledger.note("GET " + self.path)
        self._json(404, {"error": {"type": "not_found_error", "message": "stand-in"}})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class AnthropicHandler(_Base):
    """POST /v1/messages with stream=true; replies follow the last user turn."""

    def do_POST(self):
        body = self._body()
        path = self.path.split("?")[0]
        if path.endswith("/count_tokens"):
            self.ledger.note("count_tokens")
            return self._json(200, {"input_tokens": 7})
        if not path.endswith("/v1/messages"):
            self.ledger.note("POST " + self.path)
            return self._json(404, {"error": {"type": "not_found_error", "message": "stand-in"}})
        n = self.ledger.next_n()
        model = body.get("model", "")
        msgs = body.get("messages") or []
        last = _text_of(msgs[-1].get("content")) if msgs else ""
        tools = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        blocks = self._reply_blocks(last, tools, n)
        usage = {"input": 1000 + n, "cache_write_5m": 200 + n, "cache_write_1h": 30 + n,
                 "cache_read": 3000 + n, "output": 40 + n, "web_search": 1 if n % 4 == 0 else 0}
        msg_id = "msg_amrt_%04d_%s" % (n, uuid.uuid4().hex[:8])
        start_usage = {"input_tokens": usage["input"],
                       "cache_creation_input_tokens": usage["cache_write_5m"] + usage["cache_write_1h"],
                       "cache_read_input_tokens": usage["cache_read"],
                       "cache_creation": {"ephemeral_5m_input_tokens": usage["cache_write_5m"],
                                          "ephemeral_1h_input_tokens": usage["cache_write_1h"]},
                       "output_tokens": 1, "service_tier": "standard",
                       "server_tool_use": {"web_search_requests": usage["web_search"],
                                           "web_fetch_requests": 0}}
        ev = [("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]
        for i, b in enumerate(blocks):
            ev += self._block_events(i, b)
        # The final usage is cumulative, as the API sends it today; output grew while streaming.
        final = dict(start_usage, output_tokens=usage["output"])
        del final["cache_creation"], final["service_tier"]
        stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
        ev += [("message_delta", {"type": "message_delta",
                                  "delta": {"stop_reason": stop, "stop_sequence": None},
                                  "usage": final}),
               ("message_stop", {"type": "message_stop"})]
        self.ledger.bill(dict(tool="claude-code", model=model, day=_utc_day(), n=n,
                              reply=blocks[-1]["type"], sub="AMRT-SUB" in last, **usage))
        self._sse(ev, [("request-id", "req_amrt_%04d" % n)])

    @staticmethod
    def _block_events(i, b):
        if b["type"] == "thinking":
            first, deltas = {"type": "thinking", "thinking": "", "signature": ""}, [
                {"type": "thinking_delta", "thinking": b["thinking"]},
                {"type": "signature_delta", "signature": b["signature"]}]
        elif b["type"] == "text":
            first, deltas = {"type": "text", "text": ""}, [{"type": "text_delta", "text": b["text"]}]
        else:
            first, deltas = dict(b, input={}), [{"type": "input_json_delta",
                                                 "partial_json": json.dumps(b["input"])}]
        ev = [("content_block_start", {"type": "content_block_start", "index": i, "content_block": first})]
        ev += [("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d})
               for d in deltas]
        return ev + [("content_block_stop", {"type": "content_block_stop", "index": i})]

    @staticmethod
    def _reply_blocks(last, tools, n):
        """Thinking, then text or a tool call: Claude Code writes one line per block."""
        think = {"type": "thinking", "thinking": "%s thinking %d" % (SECRET_REPLY, n),
                 "signature": "c2lnbmF0dXJl%04d" % n}
        if "<summary>" in last and "<analysis>" in last:
            # A compaction request: the summary in the form Claude Code asks for.
            return [{"type": "text", "text": "<analysis>%s</analysis>\n<summary>%s summary %d</summary>"
                     % (SECRET_REPLY, SECRET_REPLY, n)}]
        if "\x00tool_result" in last or "AMRT-SUB" in last:
            return [think, {"type": "text", "text": "%s done %d" % (SECRET_REPLY, n)}]
        if "AMRT-TOOL" in last and "Bash" in tools:
            return [think, {"type": "text", "text": "%s running it" % SECRET_REPLY},
                    {"type": "tool_use", "id": "toolu_amrt_%04d" % n, "name": "Bash",
                     "input": {"command": "echo hi", "description": "Say hi"}}]
        task = "Agent" if "Agent" in tools else "Task" if "Task" in tools else None
        if "AMRT-TASK" in last and task:
            return [think, {"type": "tool_use", "id": "toolu_amrt_%04d" % n, "name": task,
                            "input": {"description": "Sub job", "subagent_type": "general-purpose",
                                      "prompt": "AMRT-SUB reply with one word"}}]
        return [think, {"type": "text", "text": "%s %d" % (SECRET_REPLY, n)}]


class OpenAIHandler(_Base):
    """POST /v1/responses with stream=true: one assistant message per call."""

    def do_POST(self):
        body = self._body()
        path = self.path.split("?")[0]
        if not path.endswith("/responses"):
            self.ledger.note("POST " + self.path)
            return self._json(404, {"error": {"message": "stand-in", "type": "not_found"}})
        n = self.ledger.next_n()
        model = body.get("model", "")
        inp, cached, out, reasoning = 5000 + n, 1200 + n, 300 + n, 100 + n
        written = 400 + n  # prompt-cache writes: a part of input_tokens, as cached_tokens is
        rid = "resp_amrt_%04d" % n
        items = body.get("input") or []
        last = items[-1] if items and isinstance(items[-1], dict) else {}
        item = self._output_item(body, last, n)
        reply = "tool_use" if item["type"] != "message" else "text"
        sub = last.get("type") == "message" and "AMRT-SUB" in json.dumps(last.get("content"))
        if last.get("type") in ("function_call_output", "custom_tool_call_output") and item["type"] == "message":
            reply = "after_tool"
        usage = {"input_tokens": inp,
                 "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
                 "output_tokens": out, "output_tokens_details": {"reasoning_tokens": reasoning},
                 "total_tokens": inp + out}
        ev = [("response.created", {"type": "response.created",
                                    "response": {"id": rid, "model": model, "status": "in_progress"}}),
              ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                              "item": dict(item, status="in_progress")})]
        if item["type"] == "message":
            ev += [("response.output_text.delta", {"type": "response.output_text.delta", "output_index": 0,
                                                   "content_index": 0, "item_id": item["id"],
                                                   "delta": item["content"][0]["text"]})]
        ev += [("response.output_item.done", {"type": "response.output_item.done", "output_index": 0,
                                             "item": item}),
              ("response.completed", {"type": "response.completed",
                                      "response": {"id": rid, "model": model, "status": "completed",
                                                   "output": [item], "usage": usage}})]
        self.ledger.bill(dict(tool="codex", model=model, day=_utc_day(), n=n, reply=reply, sub=sub,
                              input=inp - cached - written, output=out, cache_write_5m=written,
                              cache_write_1h=0,
                              cache_read=cached, reasoning=reasoning, web_search=0,
                              service_tier=body.get("service_tier") or ""))
        self._sse(ev)

    def _output_item(self, body, last, n):
        """The one output item of call n: a shell call, a sub-agent spawn or wait, or text."""
        tools = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
        if (last.get("type") == "message" and "AMRT-TOOL" in json.dumps(last.get("content"))
                and "exec_command" in tools):
            # A shell call; Codex runs it and calls again with its output.
            item = {"type": "function_call", "id": "fc_amrt_%04d" % n, "call_id": "call_amrt_%04d" % n,
                    "name": "exec_command", "arguments": json.dumps({"cmd": "echo hi"}),
                    "status": "completed"}
        elif (last.get("type") == "message" and "AMRT-SPAWN" in json.dumps(last.get("content"))
                and "multi_agent_v1" in tools):
            item = {"type": "function_call", "id": "fc_amrt_%04d" % n, "call_id": "call_spawn_%04d" % n,
                    "namespace": "multi_agent_v1", "name": "spawn_agent",
                    "arguments": json.dumps({"message": "AMRT-SUB reply with one word",
                                             "fork_context": True}),
                    "status": "completed"}
        elif last.get("type") == "function_call_output" and last.get("call_id", "").startswith("call_spawn_"):
            self.ledger.note("spawn output: " + json.dumps(last.get("output"))[:300])
            target = _agent_id(last.get("output"))
            item = {"type": "function_call", "id": "fc_amrt_%04d" % n, "call_id": "call_wait_%04d" % n,
                    "namespace": "multi_agent_v1", "name": "wait_agent",
                    "arguments": json.dumps({"targets": [target], "timeout_ms": 60000}),
                    "status": "completed"}
        else:
            item = {"type": "message", "role": "assistant", "id": "msg_amrt_%04d" % n,
                    "status": "completed",
                    "content": [{"type": "output_text", "text": "%s %d" % (SECRET_REPLY, n),
                                 "annotations": []}]}
        return item


def _gemini_usage(n):
    """Distinct usage per call; promptTokenCount includes the cached tokens, thoughts are apart."""
    prompt, cached, cand, thoughts, tool = 2000 + n, 700 + n, 50 + n, 20 + n, 10 + n
    meta = {"promptTokenCount": prompt, "candidatesTokenCount": cand, "cachedContentTokenCount": cached,
            "thoughtsTokenCount": thoughts, "toolUsePromptTokenCount": tool,
            "totalTokenCount": prompt + cand + thoughts + tool}
    billed = {"input": prompt - cached + tool, "output": cand + thoughts, "cache_write_5m": 0,
              "cache_write_1h": 0, "cache_read": cached, "reasoning": thoughts, "web_search": 0}
    return meta, billed


def _placeholder(schema, n):
    """A value of the JSON-schema type asked for, carrying no text of the conversation."""
    if schema.get("enum"):
        return schema["enum"][0]
    kind = str(schema.get("type", "")).lower()
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: _placeholder(props.get(k) or {}, n) for k in schema.get("required") or []}
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return n
    if kind == "array":
        return []
    return "%s %d" % (SECRET_REPLY, n)


class GeminiHandler(_Base):
    """POST /v1beta/models/<model>:streamGenerateContent?alt=sse (and :generateContent, :countTokens)."""

    def do_POST(self):
        body = self._body()
        path = self.path.split("?")[0]
        model, _, method = path.rsplit("/", 1)[-1].partition(":")
        if method == "countTokens":
            self.ledger.note("gemini countTokens")
            return self._json(200, {"totalTokens": 7})
        if method not in ("generateContent", "streamGenerateContent"):
            self.ledger.note("POST " + self.path)
            return self._json(404, {"error": {"code": 404, "message": "stand-in", "status": "NOT_FOUND"}})
        n = self.ledger.next_n()
        contents = body.get("contents") or []
        last = contents[-1] if contents else {}
        parts = last.get("parts") or []
        text = "\n".join(p.get("text", "") for p in parts if isinstance(p, dict))
        tool_result = any("functionResponse" in p for p in parts if isinstance(p, dict))
        tools = {f.get("name") for t in body.get("tools") or [] for f in t.get("functionDeclarations") or []}
        cfg = body.get("generationConfig") or {}
        schema = cfg.get("responseJsonSchema") or cfg.get("responseSchema")
        if schema:
            # A utility call (the model router's classifier, ...): the JSON its schema asks for.
            reply, out_parts = "utility", [{"text": json.dumps(_placeholder(schema, n))}]
        elif "complete_task" in tools and not tool_result:
            # A sub-agent's turn: it ends by calling complete_task with what its schema requires.
            decl = [f for t in body.get("tools") or [] for f in t.get("functionDeclarations") or []
                    if f.get("name") == "complete_task"][0]
            schema = decl.get("parametersJsonSchema") or decl.get("parameters") or {}
            props = schema.get("properties") or {}
            args = {k: _placeholder(props.get(k) or {}, n) for k in schema.get("required") or []}
            reply, out_parts = "tool_use", [{"functionCall": {"name": "complete_task", "args": args}}]
        elif "AMRT-TASK" in text and "invoke_agent" in tools and not tool_result:
            reply, out_parts = "tool_use", [{"text": "%s thinking %d" % (SECRET_REPLY, n), "thought": True},
                                            {"functionCall": {"name": "invoke_agent", "args": {
                                                "agent_name": "generalist",
                                                "prompt": "AMRT-SUB reply with one word"}}}]
        elif "AMRT-TOOL" in text and "run_shell_command" in tools and not tool_result:
            reply, out_parts = "tool_use", [{"text": "%s thinking %d" % (SECRET_REPLY, n), "thought": True},
                                            {"functionCall": {"name": "run_shell_command",
                                                              "args": {"command": "echo hi"}}}]
        else:
            reply = "after_tool" if tool_result else "text"
            out_parts = [{"text": "%s thinking %d" % (SECRET_REPLY, n), "thought": True},
                         {"text": "%s %d" % (SECRET_REPLY, n)}]
        meta, billed = _gemini_usage(n)
        model_version = model
        chunks = [{"candidates": [{"content": {"role": "model", "parts": [p]}, "index": 0}],
                   "modelVersion": model_version, "responseId": "amrt-%04d" % n} for p in out_parts]
        chunks[-1]["candidates"][0]["finishReason"] = "STOP"
        chunks[-1]["usageMetadata"] = meta
        self.ledger.bill(dict(tool="gemini-cli", model=model, day=_utc_day(), n=n, reply=reply,
                              sub="AMRT-SUB" in text, tools=sorted(t for t in tools if t), **billed))
        if method == "generateContent":
            merged = {"candidates": [{"content": {"role": "model", "parts": out_parts}, "index": 0,
                                      "finishReason": "STOP"}],
                      "usageMetadata": meta, "modelVersion": model_version, "responseId": "amrt-%04d" % n}
            return self._json(200, merged)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for c in chunks:
            self.wfile.write(("data: %s\r\n\r\n" % json.dumps(c)).encode())
            self.wfile.flush()
        self.close_connection = True


SHELL_TOOLS = ("run_shell_command", "bash", "shell", "exec_command", "Bash")
TASK_TOOLS = ("task", "Task", "agent", "Agent")


def _tool_args(schema, n, **fixed):
    """Arguments for a tool call: what its schema requires, with some values fixed."""
    args = _placeholder(dict(schema, type="object"), n)
    props = schema.get("properties") or {}
    for k, v in fixed.items():
        if k in props:
            enum = props[k].get("enum")
            args[k] = v if not enum or v in enum else enum[0]
    return args


def _openai_usage(n):
    """Distinct usage per call in OpenAI's meaning: prompt includes cached, completion includes reasoning."""
    prompt, cached, completion, reasoning = 3000 + n, 800 + n, 90 + n, 30 + n
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
             "prompt_tokens_details": {"cached_tokens": cached},
             "completion_tokens_details": {"reasoning_tokens": reasoning}}
    billed = {"input": prompt - cached, "output": completion, "cache_write_5m": 0, "cache_write_1h": 0,
              "cache_read": cached, "reasoning": reasoning, "web_search": 0}
    return usage, billed


class ChatCompletionsHandler(_Base):
    """POST .../chat/completions (OpenAI-compatible, streamed or not), as Qwen Code and OpenCode call it."""
    tool_name = "openai-chat"
    subagent = "general-purpose"  # The sub-agent type the task tool is asked for.

    def do_POST(self):
        body = self._body()
        path = self.path.split("?")[0]
        if not path.endswith("/chat/completions"):
            self.ledger.note("POST " + self.path)
            return self._json(404, {"error": {"message": "stand-in", "type": "not_found"}})
        n = self.ledger.next_n()
        model = body.get("model", "")
        msgs = body.get("messages") or []
        last = msgs[-1] if msgs else {}
        content = last.get("content")
        text = content if isinstance(content, str) else json.dumps(content)
        # The prompt of this turn: the last user message, whatever tool results followed it.
        user = [m for m in msgs if m.get("role") == "user"]
        asked = json.dumps(user[-1].get("content")) if user else ""
        tool_result = last.get("role") == "tool"
        decls = {t["function"]["name"]: t["function"].get("parameters") or {}
                 for t in body.get("tools") or [] if isinstance(t, dict) and t.get("function")}
        shell = next((t for t in SHELL_TOOLS if t in decls), None)
        task = next((t for t in TASK_TOOLS if t in decls), None)
        call = None
        if not tool_result and "AMRT-TOOL" in asked and shell:
            call = (shell, _tool_args(decls[shell], n, command="echo hi", description="Say hi",
                                      is_background=False))
        elif not tool_result and "AMRT-TASK" in asked and task:
            call = (task, _tool_args(decls[task], n, description="Sub job", prompt="AMRT-SUB reply with one word",
                                     subagent_type=self.subagent, agent_type=self.subagent))
        reply = "tool_use" if call else "after_tool" if tool_result else "text"
        usage, billed = _openai_usage(n)
        self.ledger.bill(dict(tool=self.tool_name, model=model, day=_utc_day(), n=n, reply=reply,
                              sub="AMRT-SUB" in asked, tools=sorted(decls), **billed))
        cid = "chatcmpl-amrt-%04d" % n
        think = "%s thinking %d" % (SECRET_REPLY, n)
        if call:
            tc = {"index": 0, "id": "call_amrt_%04d" % n, "type": "function",
                  "function": {"name": call[0], "arguments": json.dumps(call[1])}}
            message, finish = {"role": "assistant", "content": None, "tool_calls": [tc]}, "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": "%s %d" % (SECRET_REPLY, n)}, "stop"
        if not body.get("stream"):
            return self._json(200, {"id": cid, "object": "chat.completion", "created": int(time.time()),
                                    "model": model, "usage": usage,
                                    "choices": [{"index": 0, "message": dict(message, reasoning_content=think),
                                                 "finish_reason": finish}]})
        base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
        deltas = [{"role": "assistant", "content": ""}, {"reasoning_content": think}]
        deltas.append({"tool_calls": message["tool_calls"]} if call else {"content": message["content"]})
        chunks = [dict(base, choices=[{"index": 0, "delta": d, "finish_reason": None}]) for d in deltas]
        chunks.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": finish}]))
        chunks.append(dict(base, choices=[], usage=usage))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for c in chunks:
            self.wfile.write(("data: %s\n\n" % json.dumps(c)).encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


def serve(handler_cls, ledger, **attrs):
    """Starts a threaded server on an ephemeral loopback port; returns (server, port).
    attrs set class attributes of the handler, such as the tool name it bills under."""
    cls = type(handler_cls.__name__, (handler_cls,), dict(attrs, ledger=ledger))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), cls)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]
