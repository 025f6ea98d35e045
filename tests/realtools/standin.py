"""Loopback stand-ins for the Anthropic Messages API and the OpenAI Responses API.

Each streams scripted replies (SSE) with known, distinct usage and records every
call it billed: tool, model, UTC day and the token buckets in the agent's terms
(input = uncached input, output incl. reasoning, cache writes, cache reads).
Nothing here talks to the network beyond 127.0.0.1.
"""
import http.server
import json
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
        rid = "resp_amrt_%04d" % n
        items = body.get("input") or []
        last = items[-1] if items and isinstance(items[-1], dict) else {}
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
        reply = "tool_use" if item["type"] == "function_call" else "text"
        sub = last.get("type") == "message" and "AMRT-SUB" in json.dumps(last.get("content"))
        if last.get("type") == "function_call_output" and item["type"] == "message":
            reply = "after_tool"
        usage = {"input_tokens": inp, "input_tokens_details": {"cached_tokens": cached},
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
                              input=inp - cached, output=out, cache_write_5m=0, cache_write_1h=0,
                              cache_read=cached, reasoning=reasoning, web_search=0))
        self._sse(ev)


def serve(handler_cls, ledger):
    """Starts a threaded server on an ephemeral loopback port; returns (server, port)."""
    cls = type(handler_cls.__name__, (handler_cls,), {"ledger": ledger})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), cls)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]
