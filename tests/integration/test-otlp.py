#!/usr/bin/env python3
"""test-otlp.py: OTLP/HTTP into the real collector and the real PostgreSQL (issue 15).

Tokens through aimeterctl otlp-token; Claude Code api_request log records in
OTLP/JSON, OTLP/protobuf (encoded here from the field numbers) and gzip; a
retried export adds nothing; bad and revoked tokens get 401 before the body
is read; a gzip bomb, deep nesting and a bad body are refused within bounds;
prompt and tool markers reach no table and no log; metrics and traces are
accepted. Prints OTLP log records/s beside the batch endpoint's events/s.
"""
import gzip
import hashlib
import hmac
import importlib.util
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

MARKER = "PLANTED-MARKER-7f3a9c"
EMAIL = "Dev.One@Example.com"
NOW_NS = time.time_ns()


# --- protobuf and JSON pieces: tests/lib/otlp_wire.py --------------------------------
from otlp_wire import (f_fixed64, f_len, f_varint, js_any, js_counter, pb_any,  # noqa: E402
                       pb_counter, pb_kv)


def pb_logs(resource_attrs, records):
    res = b"".join(f_len(1, pb_kv(k, v)) for k, v in resource_attrs.items())
    recs = b""
    for r in records:
        body = f_fixed64(1, r["time"]) + f_len(5, pb_any(r["name"]))
        body += b"".join(f_len(6, pb_kv(k, v)) for k, v in r["attrs"].items())
        recs += f_len(2, body)
    scope = f_len(1, f_len(1, "com.anthropic.claude_code")) + recs
    rl = f_len(1, res) + f_len(2, scope)
    return f_len(1, rl)


# --- OTLP/JSON --------------------------------------------------------------------
def js_logs(resource_attrs, records):
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": k, "value": js_any(v)}
                                    for k, v in resource_attrs.items()]},
        "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code"}, "logRecords": [
            {"timeUnixNano": str(r["time"]), "body": {"stringValue": r["name"]},
             "attributes": [{"key": k, "value": js_any(v)} for k, v in r["attrs"].items()]}
            for r in records]}]}]}).encode()


RESOURCE = {"service.name": "claude-code", "service.version": "2.1.328"}


def api_request(i, session="sess-1", **over):
    a = {"event.name": "api_request", "session.id": session, "event.sequence": i,
         "request_id": "req_%s_%d" % (session, i), "model": "claude-sonnet-4-5",
         "input_tokens": 100 + i, "output_tokens": 10 * i + 1,
         "cache_read_tokens": str(1000 + i), "cache_creation_tokens": 50,
         "cost_usd": 0.01, "duration_ms": 1200, "user.email": EMAIL,
         "user.account_uuid": "acct-uuid-1", "prompt": MARKER + " secret prompt",
         "error": MARKER + " error text", "file_path": "/home/" + MARKER + "/x.c"}
    a.update(over)
    return {"time": NOW_NS - 60 * 10**9 + i, "name": "claude_code.api_request", "attrs": a}


def other_events(session="sess-1"):
    return [
        {"time": NOW_NS, "name": "claude_code.user_prompt",
         "attrs": {"event.name": "user_prompt", "session.id": session, "prompt": MARKER,
                   "prompt_length": 42, "user.email": EMAIL}},
        {"time": NOW_NS, "name": "claude_code.tool_result",
         "attrs": {"event.name": "tool_result", "session.id": session, "tool_name": "Bash",
                   "tool_parameters": json.dumps({"bash_command": "echo " + MARKER}),
                   "tool_input": MARKER, "success": True}},
    ]


def expected(records):
    calls = [r for r in records if r["name"] == "claude_code.api_request"]
    return (len(calls), sum(r["attrs"]["input_tokens"] for r in calls),
            sum(r["attrs"]["output_tokens"] for r in calls))


def db_usage(w):
    out = h.psql(w, "SELECT count(*), coalesce(sum(input_tokens), 0), "
                    "coalesce(sum(output_tokens), 0) FROM aimeter.usage_events "
                    "WHERE tool = 'claude-code'")
    return tuple(int(x) for x in out.split("|"))


def ctl(w, *args):
    r = subprocess.run([h.CTL] + list(args), env=h.pg_env(w), capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


w = h.setup("otlp")
h.psql(w, "INSERT INTO aimeter.teams (name) VALUES ('platform')")
col = h.Collector(w)
c = h.Client(w, col.port)

# --- tokens --------------------------------------------------------------------------
rc, token, _ = ctl(w, "otlp-token", "create", "--name", "ci-runners", "--team", "platform")
token = token.strip()
h.check(rc == 0 and token.startswith("amotlp_"), "otlp-token create prints a token")
stored = h.psql(w, "SELECT encode(token_hash, 'hex') FROM aimeter.otlp_tokens "
                   "WHERE name = 'ci-runners'")
h.check(stored == hashlib.sha256(token.encode()).hexdigest(), "only the token's SHA-256 is stored")
rc, token2, _ = ctl(w, "otlp-token", "create", "--name", "laptops", "--expires", "30")
token2 = token2.strip()
rc, out, _ = ctl(w, "otlp-token", "list")
h.check(rc == 0 and "ci-runners" in out and "laptops" in out and "platform" in out
        and token not in out, "otlp-token list shows names and teams, never tokens")
rc, _, _ = ctl(w, "otlp-token", "create", "--name", "ci-runners")
h.check(rc != 0, "a second token with the same name is refused")


def post(path, body, tok, ctype="application/json", encoding=None):
    hd = {"Content-Type": ctype}
    if tok is not None:
        hd["Authorization"] = "Bearer " + tok
    if encoding:
        hd["Content-Encoding"] = encoding
    return c.request("POST", path, body, hd)


# --- JSON ----------------------------------------------------------------------------
recs = [api_request(i) for i in range(1, 4)] + other_events()
body = js_logs(RESOURCE, recs)
st, hd, data = post("/v1/logs", body, token)
h.check(st == 200 and hd.get("Content-Type") == "application/json" and json.loads(data) == {},
        "JSON logs: 200 with an empty ExportLogsServiceResponse (got %s %r)" % (st, data))
want = expected(recs)
h.check(db_usage(w) == want, "usage_events holds the 3 calls and their tokens %r" % (want,))
snap = h.snapshot(w)
st, _, data = post("/v1/logs", body, token)
h.check(st == 200 and db_usage(w) == want and h.snapshot(w) == snap,
        "a retried export changes nothing")

key = open(w.p("person.key"), "rb").read().strip()
mac = hmac.new(key, EMAIL.strip().lower().encode(), hashlib.sha256).hexdigest()
got = h.psql(w, "SELECT DISTINCT encode(person_key, 'hex') FROM aimeter.usage_events "
                "WHERE tool = 'claude-code'")
h.check(got == mac, "identity is user.email under the agents' HMAC key")
team = h.psql(w, "SELECT DISTINCT t.name FROM aimeter.usage_events e "
                 "JOIN aimeter.teams t USING (team_id) WHERE e.tool = 'claude-code'")
h.check(team == "platform", "the token's team is the events' team")
row = h.psql(w, "SELECT cache_read_tokens, cache_write_5m_tokens, model, session "
                "FROM aimeter.usage_events WHERE tool = 'claude-code' ORDER BY input_tokens LIMIT 1")
h.check(row == "1001|50|claude-sonnet-4-5|sess-1", "cache tokens, model and session kept (%s)" % row)

# --- protobuf --------------------------------------------------------------------------
recs_pb = [api_request(i, session="sess-pb") for i in range(1, 6)]
st, hd, data = post("/v1/logs", pb_logs(RESOURCE, recs_pb), token, "application/x-protobuf")
h.check(st == 200 and hd.get("Content-Type") == "application/x-protobuf" and data == b"",
        "protobuf logs: 200 with an empty response (got %s %r)" % (st, data))
want = tuple(a + b for a, b in zip(want, expected(recs_pb)))
h.check(db_usage(w) == want, "protobuf calls counted: %r" % (want,))
st, _, _ = post("/v1/logs", pb_logs(RESOURCE, recs_pb), token, "application/x-protobuf")
h.check(st == 200 and db_usage(w) == want, "a retried protobuf export adds nothing")

# The same calls as JSON: the event id comes from the record, not the encoding.
st, _, _ = post("/v1/logs", js_logs(RESOURCE, recs_pb), token)
h.check(st == 200 and db_usage(w) == want, "the same calls in JSON are the same calls")

# --- gzip --------------------------------------------------------------------------------
recs_gz = [api_request(i, session="sess-gz") for i in range(1, 8)]
st, _, _ = post("/v1/logs", gzip.compress(js_logs(RESOURCE, recs_gz)), token, encoding="gzip")
want = tuple(a + b for a, b in zip(want, expected(recs_gz)))
h.check(st == 200 and db_usage(w) == want, "gzip JSON counted")
st, _, _ = post("/v1/logs", gzip.compress(pb_logs(RESOURCE, recs_gz)), token,
                "application/x-protobuf", "gzip")
h.check(st == 200 and db_usage(w) == want, "gzip protobuf of the same calls adds nothing")

# --- partial success: an api_request that cannot be one call ------------------------------
bad = api_request(1, session="")
del bad["attrs"]["request_id"]
st, _, data = post("/v1/logs", js_logs(RESOURCE, [bad, api_request(9, session="sess-ps")]), token)
ps = json.loads(data).get("partialSuccess", {})
h.check(st == 200 and ps.get("rejectedLogRecords") == "1",
        "partial success: rejectedLogRecords 1 (got %s %r)" % (st, data))
want = (want[0] + 1, want[1] + 109, want[2] + 91)
h.check(db_usage(w) == want, "the good record of a partial success counts")

# --- authentication before decoding --------------------------------------------------------
before = db_usage(w)
st, _, _ = post("/v1/logs", body, None)
h.check(st == 401, "no Authorization: 401")
st, _, _ = post("/v1/logs", b"\x00garbage that is not json", "amotlp_madeup")
h.check(st == 401, "an unknown token gets 401 even with a bad body (auth before decode)")
rc, _, _ = ctl(w, "otlp-token", "revoke", "laptops")
h.check(rc == 0, "otlp-token revoke")
st, _, _ = post("/v1/logs", js_logs(RESOURCE, [api_request(1, session="rev")]), token2)
h.check(st == 401 and db_usage(w) == before, "a revoked token gets 401 and writes nothing")
h.psql(w, "UPDATE aimeter.otlp_tokens SET expires_at = now() - interval '1 s' "
          "WHERE name = 'laptops'")

# --- hostile bodies ---------------------------------------------------------------------------
bomb = gzip.compress(b"{" + b" " * (64 << 20) + b"}", 9)
st, _, data = post("/v1/logs", bomb, token, encoding="gzip")
h.check(st == 413, "a gzip bomb (%d bytes -> 64 MiB) is refused: 413 (got %s)" % (len(bomb), st))
deep = f_varint(2, 1)  # AnyValue{bool_value}
for _ in range(300):
    deep = f_len(5, f_len(1, deep))  # AnyValue{array_value{values: AnyValue}}
nested = f_len(1, f_len(2, f_len(2, f_len(6, f_len(1, "k") + f_len(2, deep)))))
st, _, data = post("/v1/logs", nested, token, "application/x-protobuf")
h.check(st == 400, "AnyValue nested 600 deep: 400 (got %s)" % st)
attr = f_len(6, f_len(1, "a"))  # LogRecord.attributes: KeyValue{key "a"}
huge = f_len(1, f_len(2, f_len(2, attr * 600000)))
st, _, _ = post("/v1/logs", huge, token, "application/x-protobuf")
h.check(st == 413, "600 000 attributes on one record (1.2M fields): 413 before unpacking")
deepjson = b'{"resourceLogs":' + b"[" * 5000 + b"]" * 5000 + b"}"
st, _, _ = post("/v1/logs", deepjson, token)
h.check(st == 400, "JSON nested 5000 deep: 400")
st, hd, data = post("/v1/logs", b"\xff\xff\xff", token, "application/x-protobuf")
h.check(st == 400 and hd.get("Content-Type") == "application/x-protobuf",
        "a body that is not protobuf: 400 with a Status body")
st, _, _ = post("/v1/logs", b"{}", token, "text/plain")
h.check(st == 415, "another Content-Type: 415")
st, _, _ = post("/v1/logs", b"{}", token, encoding="br")
h.check(st == 415, "another Content-Encoding: 415")
st, _, data = post("/v1/logs", b"{}", token)
h.check(st == 200 and json.loads(data) == {}, "an empty export is a success")
h.check(db_usage(w) == before, "no hostile body changed usage")

# --- metrics: counters exactly once, cumulative and delta, across restart and reset ----------------
def js_metric(name, temporality, points, resource=None):
    """points: (start_ns, time_ns, value, attrs)."""
    res = dict(RESOURCE, **(resource or {"user.email": EMAIL, "session.id": "sess-m"}))
    return js_counter(res, name, temporality, points)


def pb_metric(name, temporality, points):
    return pb_counter(dict(RESOURCE, **{"user.email": EMAIL}), name, temporality, points)


def counters():
    out = h.psql(w, "SELECT metric, kind, sum(value)::bigint FROM aimeter.otlp_counters_daily "
                    "GROUP BY 1, 2 ORDER BY 1, 2")
    return {(m, k): int(v) for m, k, v in (l.split("|") for l in out.splitlines() if l)}


LOC, COMMITS, PRS = ("claude_code.lines_of_code.count", "claude_code.commit.count",
                     "claude_code.pull_request.count")
S1, S2, T = NOW_NS - 3600 * 10**9, NOW_NS - 60 * 10**9, NOW_NS - 3000 * 10**9
added, removed = {"type": "added", "model": "m1"}, {"type": "removed", "model": "m1"}
cum1 = js_metric(LOC, 2, [(S1, T + 1, 10, added), (S1, T + 1, 4, removed)])
cum2 = js_metric(LOC, 2, [(S1, T + 2, 15, added), (S1, T + 2, 4, removed)])
for b in (cum1, cum2, cum2, cum1):
    st, _, data = post("/v1/metrics", b, token)
    if st != 200 or json.loads(data) != {}:
        h.fail("metrics export: %s %r" % (st, data))
h.check(counters() == {(LOC, "added"): 15, (LOC, "removed"): 4},
        "cumulative lines: growth counted once, retries and reordering add nothing (%r)"
        % counters())
col.stop()
col = h.Collector(w, name="c2")
c = h.Client(w, col.port)
st, _, _ = post("/v1/metrics", cum2, token)
st, _, _ = post("/v1/metrics", js_metric(LOC, 2, [(S1, T + 3, 20, added)]), token)
h.check(st == 200 and counters()[(LOC, "added")] == 20,
        "after a collector restart, a retry adds nothing and growth counts (series state in PostgreSQL)")
st, _, _ = post("/v1/metrics", js_metric(LOC, 2, [(S2, T + 4, 3, added)]), token)
st, _, _ = post("/v1/metrics", js_metric(LOC, 2, [(S2, T + 4, 3, added)]), token)
h.check(counters()[(LOC, "added")] == 23, "a counter reset (new start time) counts its new run once")
d1 = js_metric(COMMITS, 1, [(T, T + 1, 1, {})])
for b in (d1, d1, js_metric(COMMITS, 1, [(T + 1, T + 2, 2, {})])):
    st, _, _ = post("/v1/metrics", b, token)
h.check(counters().get((COMMITS, "")) == 3, "delta commits: 1 + 2, the retried 1 not again")
pr = pb_metric(PRS, 1, [(T, T + 5, 1, {})])
for _ in range(2):
    st, hd, data = post("/v1/metrics", pr, token, "application/x-protobuf")
h.check(st == 200 and data == b"" and counters().get((PRS, "")) == 1,
        "protobuf delta pull requests: counted once")
who = h.psql(w, "SELECT DISTINCT encode(person_key, 'hex') || '|' || t.name "
                "FROM aimeter.otlp_counters_daily d JOIN aimeter.teams t USING (team_id)")
h.check(who == mac + "|platform", "counters carry the identity HMAC and the token's team")
other = js_metric("claude_code.cost.usage", 2, [(S1, T + 1, 1, {})])
st, _, data = post("/v1/metrics", other, token)
h.check(st == 200 and json.loads(data) == {} and len(counters()) == 4,
        "other metrics are accepted and not kept")
st, _, data = post("/v1/traces", b'{"resourceSpans":[]}', token)
h.check(st == 200 and json.loads(data) == {}, "traces: 200")
st, _, _ = c.request("GET", "/v1/logs")
h.check(st == 405, "GET /v1/logs: 405")

# --- privacy at the door -------------------------------------------------------------------------
dump = subprocess.run(["pg_dump", "--data-only"], env=h.pg_env(w), capture_output=True,
                      text=True)
h.check(dump.returncode == 0 and MARKER not in dump.stdout and EMAIL.lower() not in
        dump.stdout.lower(), "no marker and no email anywhere in the database")
h.check(MARKER not in col.log(), "no marker in the collector's log")

# --- throughput beside the batch endpoint (printed, never asserted) -------------------------------
N, PER = 20, 1000
bodies = [js_logs(RESOURCE, [api_request(i, session="perf%d" % b) for i in range(PER)])
          for b in range(N)]
t0 = time.monotonic()
for b in bodies:
    st, _, _ = post("/v1/logs", b, token)
    if st != 200:
        h.fail("throughput request: %s" % st)
otlp_rate = N * PER / (time.monotonic() - t0)
bodies = [pb_logs(RESOURCE, [api_request(i, session="perfpb%d" % b) for i in range(PER)])
          for b in range(N)]
t0 = time.monotonic()
for b in bodies:
    st, _, _ = post("/v1/logs", b, token, "application/x-protobuf")
    if st != 200:
        h.fail("protobuf throughput request: %s" % st)
pb_rate = N * PER / (time.monotonic() - t0)
bodies = [js_metric(COMMITS, 1, [(T, T + 10 + b, 1, {"session.id": "perf%d-%d" % (b, i)})
                                 for i in range(PER)]) for b in range(N)]
t0 = time.monotonic()
for b in bodies:
    st, _, _ = post("/v1/metrics", b, token)
    if st != 200:
        h.fail("metrics throughput request: %s" % st)
points_rate = N * PER / (time.monotonic() - t0)
h.check(counters().get((COMMITS, "")) == 3 + N * PER, "every throughput data point counted once")
device, dtoken, _ = h.enroll(w, c, "perf-host")
batches, n_events, _ = h.mkbatches(w, "perf", N, PER, 77)
t0 = time.monotonic()
for b in batches:
    st, _, _ = c.post_batch(b, dtoken)
    if st != 200:
        h.fail("batch throughput request: %s" % st)
batch_rate = n_events / (time.monotonic() - t0)
print("figure: OTLP/JSON %.0f log records/s, OTLP/protobuf %.0f log records/s (api_request, "
      "1000 per request); OTLP/JSON %.0f metric data points/s (1000 series per request); "
      "/v1/batches %.0f events/s (1000 per batch); same collector and database"
      % (otlp_rate, pb_rate, points_rate, batch_rate))

col.stop()
print("all OTLP checks passed")
