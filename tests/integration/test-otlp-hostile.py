#!/usr/bin/env python3
"""test-otlp-hostile.py: hostile OTLP/HTTP exports against the real collector (issue 15).

Each hostile request must get the status the OTLP/HTTP specification gives it (400 for data
that will never be accepted, 401 for bad credentials, 413 for what is too large, 415 for an
encoding the receiver does not speak), with no row written; after each one the collector is
still running and a good export (a new api_request, JSON or protobuf in turn) lands at once.
Bounds: the collector's peak resident memory over the whole run is printed beside its size
before, and must stay under HOSTILE_RSS_MAX_MB (the decompressed-body cap is 16 MiB; two
decodes run at once). Covers what test-otlp.py does not: oversized raw bodies, lying
Content-Length, protobuf gzip bombs, broken gzip, JSON attribute floods and deep JSON
AnyValues, record floods, malformed Authorization, expired tokens, missing Content-Type.
"""
import gzip
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import otlp_wire as ow  # noqa: E402

spec = importlib.util.spec_from_file_location("h", os.path.join(HERE, "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

# ASan's shadow memory and quarantine included; a bound, not a timing.
HOSTILE_RSS_MAX_MB = 512
RESOURCE = {"service.name": "claude-code", "user.email": "hostile@example.com"}
NOW = time.time_ns()


def rss_kb(field):
    with open("/proc/%d/status" % col.proc.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def calls():
    return int(h.psql(w, "SELECT count(*) FROM aimeter.usage_events WHERE tool = 'claude-code'"))


def post(body, tok="good", ctype="application/json", encoding=None, path="/v1/logs",
         auth=None):
    hd = {}
    if ctype is not None:
        hd["Content-Type"] = ctype
    if auth is not None:
        hd["Authorization"] = auth
    elif tok is not None:
        hd["Authorization"] = "Bearer " + (token if tok == "good" else tok)
    if encoding:
        hd["Content-Encoding"] = encoding
    return c.request("POST", path, body, hd)


good_seq = [0]


def good_export():
    """One new call, alternately JSON and protobuf: it must land."""
    good_seq[0] += 1
    i = good_seq[0]
    rec = (NOW + i, "claude_code.api_request", {
        "event.name": "api_request", "session.id": "hostile", "request_id": "req_good_%d" % i,
        "model": "claude-sonnet-4-5", "input_tokens": 10, "output_tokens": 1})
    if i % 2:
        st, _, data = post(ow.js_logs(RESOURCE, [rec]))
    else:
        st, _, data = post(ow.pb_logs(RESOURCE, [rec]), ctype="application/x-protobuf")
    return st


def refused(what, want, st, before):
    h.check(st == want, "%s: %d (got %s)" % (what, want, st))
    h.check(col.proc.poll() is None, "%s: the collector is still running" % what)
    h.check(calls() == before, "%s: nothing written" % what)
    st2 = good_export()
    h.check(st2 == 200 and calls() == before + 1, "%s: a good export right after lands" % what)


def hostile(what, want, body, **kw):
    before = calls()
    st, _, _ = post(body, **kw)
    refused(what, want, st, before)


w = h.setup("otlp_hostile")
col = h.Collector(w)
c = h.Client(w, col.port, timeout=120)


def ctl(*args):
    r = subprocess.run([h.CTL] + list(args), env=h.pg_env(w), capture_output=True, text=True)
    if r.returncode != 0:
        h.fail("aimeterctl %s: %s" % (" ".join(args), r.stderr))
    return r.stdout.strip()


token = ctl("otlp-token", "create", "--name", "good")
expired = ctl("otlp-token", "create", "--name", "expired", "--expires", "1")
revoked = ctl("otlp-token", "create", "--name", "revoked")
ctl("otlp-token", "revoke", "revoked")
h.psql(w, "UPDATE aimeter.otlp_tokens SET expires_at = now() - interval '1 s' "
          "WHERE name = 'expired'")
h.check(good_export() == 200 and calls() == 1, "a good export lands before anything hostile")
rss_before = rss_kb("VmRSS")

# --- credentials: 401 before the body is read ------------------------------------------------
body = ow.js_logs(RESOURCE, [(NOW, "claude_code.api_request", {
    "event.name": "api_request", "session.id": "bad", "request_id": "req_bad_token",
    "input_tokens": 5})])
hostile("no Authorization", 401, body, tok=None)
hostile("Authorization: Basic", 401, body, auth="Basic dXNlcjpwYXNz")
hostile("Authorization: Bearer with no token", 401, body, auth="Bearer ")
hostile("an unknown token", 401, body, tok="amotlp_" + "0" * 43)
hostile("a revoked token", 401, body, tok=revoked)
hostile("an expired token", 401, body, tok=expired)
hostile("an unknown token with a body that is not OTLP", 401, b"\xff" * 1000, tok="amotlp_x")

# --- media types: 415 -------------------------------------------------------------------------
hostile("Content-Type text/plain", 415, body, ctype="text/plain")
hostile("no Content-Type", 415, body, ctype=None)
hostile("Content-Encoding br", 415, body, encoding="br")
hostile("Content-Encoding zstd", 415, body, encoding="zstd")

# --- size: 413 --------------------------------------------------------------------------------


def oversized(what, length, body):
    """The collector answers from the headers and closes while the body is still coming."""
    before = calls()
    s = h.tls_context(w).wrap_socket(socket.create_connection(("127.0.0.1", col.port), 60),
                                     server_hostname="localhost")
    s.sendall(b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n"
              % (token.encode(), length))
    try:
        for i in range(0, len(body), 1 << 16):
            s.sendall(body[i:i + (1 << 16)])
    except OSError:
        pass  # closed early: the answer was sent before
    out = b""
    try:
        while b"\r\n\r\n" not in out:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    s.close()
    refused(what, 413, h.status_of(out), before)


big = ow.js_logs(RESOURCE, [(NOW, "x", {"pad": "a" * (5 << 20)})])
oversized("a 5 MiB body (over [limits] max_body_bytes)", len(big), big)
oversized("Content-Length of 1 GiB with one byte sent", 1 << 30, b"{")
bomb_json = gzip.compress(b"[" * 1 + b" " * (64 << 20) + b"]", 9)
hostile("JSON gzip bomb (%d bytes to 64 MiB)" % len(bomb_json), 413, bomb_json, encoding="gzip")
bomb_pb = gzip.compress(ow.f_len(1, b"\x00" * (40 << 20)), 9)
hostile("protobuf gzip bomb (%d bytes to 40 MiB)" % len(bomb_pb), 413, bomb_pb,
        ctype="application/x-protobuf", encoding="gzip")
flood = ow.pb_logs(RESOURCE, [(NOW, "x", {}) for _ in range(60000)])
hostile("60 000 log records in one request (over 50 000)", 413, flood,
        ctype="application/x-protobuf")
attrs = b'{"key":"a","value":{"stringValue":"b"}},' * 400000
attr_flood = (b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":['
              + attrs[:-1] + b"]}]}]}]}")
hostile("400 000 attributes on one JSON record (%d MiB gzipped to %d KiB)"
        % (len(attr_flood) >> 20, len(gzip.compress(attr_flood)) >> 10), 413,
        gzip.compress(attr_flood), encoding="gzip")
pb_attrs = ow.f_len(1, ow.f_len(2, ow.f_len(2, ow.f_len(6, ow.pb_kv("a", "b")) * 400000)))
hostile("400 000 attributes on one protobuf record", 413, gzip.compress(pb_attrs),
        ctype="application/x-protobuf", encoding="gzip")

# --- malformed: 400 ---------------------------------------------------------------------------
hostile("a gzip body cut in half", 400, gzip.compress(body)[:len(gzip.compress(body)) // 2],
        encoding="gzip")
hostile("gzip header, then garbage", 400, b"\x1f\x8b\x08\x00" + b"\xff" * 100, encoding="gzip")
hostile("JSON sent as protobuf", 400, body, ctype="application/x-protobuf")
hostile("protobuf with a length past the end", 400, b"\x0a\xff\xff\xff\x0f\x01",
        ctype="application/x-protobuf")
hostile("truncated JSON", 400, body[:-3])
deep = ow.f_varint(2, 1)
for _ in range(40):
    # AnyValue{kvlist_value{values: KeyValue{key, value: AnyValue}}}: 3 messages a turn
    deep = ow.f_len(6, ow.f_len(1, ow.f_len(1, "k") + ow.f_len(2, deep)))
nested_pb = ow.f_len(1, ow.f_len(2, ow.f_len(2, ow.f_len(6, ow.f_len(1, "k")
                                                           + ow.f_len(2, deep)))))
hostile("protobuf AnyValue kvlists nested 120 deep", 400, nested_pb,
        ctype="application/x-protobuf")
v = {"stringValue": "x"}
for _ in range(200):
    v = {"kvlistValue": {"values": [{"key": "k", "value": v}]}}
nested_js = json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
    {"timeUnixNano": str(NOW), "attributes": [{"key": "k", "value": v}]}]}]}]}).encode()
hostile("JSON AnyValue kvlists nested 200 deep", 400, nested_js)
hostile("JSON nested 100 000 deep", 400, b"[" * 100000 + b"]" * 100000)
hostile("metrics: JSON that is an array", 400, b"[1,2,3]", path="/v1/metrics")
hostile("a JSON string with invalid UTF-8", 400,
        b'{"resourceLogs":[{"resource":{"attributes":[{"key":"\xff\xfe","value":{}}]}}]}')

# --- bounds -----------------------------------------------------------------------------------
peak = rss_kb("VmHWM")
print("figure: collector resident memory %d MiB before the hostile requests, peak %d MiB "
      "over them (ASan build)" % (rss_before >> 10, peak >> 10))
h.check(peak < HOSTILE_RSS_MAX_MB << 10, "peak resident memory %d MiB stays under %d MiB"
        % (peak >> 10, HOSTILE_RSS_MAX_MB))
h.check(calls() == good_seq[0], "exactly the good exports were written (%d)" % good_seq[0])
col.stop()
print("all hostile OTLP checks passed")
