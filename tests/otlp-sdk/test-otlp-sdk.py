#!/usr/bin/env python3
"""test-otlp-sdk.py: the real OpenTelemetry JS SDK's OTLP exporters into the collector, exactly once.

The pinned @opentelemetry/sdk-metrics and sdk-logs with their OTLP/HTTP exporters (http/json and
http/protobuf; package-lock.json here, installed into the realtools cache by realtools.py's
installer) run in drive.cjs, which records Claude Code's counters (lines of code added and
removed, commits, pull requests) and api_request log records and tallies what it recorded.
Through a loopback TCP relay to a real aimeter-collector over TLS, per protocol:
  1. cumulative temporality, gzip, several exports (one with nothing new);
  2. a counter reset: a new SDK instance, a new start time;
  3. PostgreSQL stopped for a while: the collector answers 503 with Retry-After, the exporters
     retry and the export lands once;
  4. answers lost after the commit (the relay drops the response and closes): the exporters
     retry an export that landed, and it counts once;
  5. the collector sheds an address with 429 and Retry-After (too many unknown tokens): the
     exporters wait it out and land;
  6. delta temporality, gzip off, with another lost answer.
After every step the database's counters (aimeter.otlp_counters_daily) and usage
(aimeter.usage_events) equal the script's tally exactly. Failures to install or run are failures.
Needs the PostgreSQL of tests/run (AM_PGBIN, AM_PGDATA) and AM_COLLECTOR, AM_CTL, AM_TOOL.
"""
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "realtools"))
import realtools  # noqa: E402  (install_tools)

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(HERE, "..", "integration", "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

SDK_PACKAGES = ("@opentelemetry/sdk-metrics", "@opentelemetry/sdk-logs",
                "@opentelemetry/exporter-metrics-otlp-http",
                "@opentelemetry/exporter-metrics-otlp-proto",
                "@opentelemetry/exporter-logs-otlp-http", "@opentelemetry/exporter-logs-otlp-proto")
AUTHFAIL_BURST = 20  # collector/otlp/otlp.c: unknown tokens an address may send at once


class Relay:
    """127.0.0.1:port -> the collector, byte for byte (TLS passes through). drop(n): the next n
    answers are swallowed and both sides closed, as if the network lost them after the commit."""

    def __init__(self, target):
        self.target = target
        self.lock = threading.Lock()
        self.to_drop = self.dropped = 0
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def drop(self, n):
        with self.lock:
            self.to_drop = n

    def accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self.pump, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self.pump, args=(u, c, True), daemon=True).start()

    def pump(self, src, dst, answers):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if answers:
                    with self.lock:
                        lose = self.to_drop > 0
                        if lose:
                            self.to_drop -= 1
                            self.dropped += 1
                    if lose:
                        break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.srv.close()


class Driver:
    """drive.cjs: one command a line in, one JSON answer a line out."""

    def __init__(self, node_path, home):
        env = realtools.base_env(home)
        env.update({"NODE_PATH": node_path, "NODE_EXTRA_CA_CERTS": w.p("ca.pem")})
        self.p = subprocess.Popen(["node", os.path.join(HERE, "drive.cjs")], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=open(os.path.join(home, "node.log"), "w"), text=True)
        self.pending = None

    def send(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()

    def answer(self, what):
        line = self.p.stdout.readline()
        if not line:
            h.fail("drive.cjs exited during %s (%s)" % (what, self.p.wait()))
        out = json.loads(line)
        if not out["ok"]:
            h.fail("drive.cjs %s: %s" % (what, out["error"]))
        bad = [r for r in out.get("results", []) if r["code"] != 0]
        if bad:
            h.fail("%s: an export failed after the exporter's retries: %s" % (what, bad))
        return out

    def do(self, what, **cmd):
        self.send(**cmd)
        return self.answer(what)


def counters():
    out = h.psql(w, "SELECT metric, kind, sum(value)::bigint FROM aimeter.otlp_counters_daily "
                    "GROUP BY 1, 2")
    return {"%s|%s" % (m, k): int(v) for m, k, v in (l.split("|") for l in out.splitlines() if l)}


def usage():
    out = h.psql(w, "SELECT count(*), coalesce(sum(input_tokens), 0), "
                    "coalesce(sum(output_tokens), 0), coalesce(sum(cache_read_tokens), 0), "
                    "coalesce(sum(cache_write_5m_tokens + cache_write_1h_tokens), 0) "
                    "FROM aimeter.usage_events WHERE tool = 'claude-code'")
    return dict(zip(("calls", "input", "output", "cache_read", "cache_creation"),
                    (int(x) for x in out.split("|"))))


def exact(tally, what):
    want_c = {k: v for k, v in tally["counters"].items() if v}
    want_u = {k: tally[k] for k in ("calls", "input", "output", "cache_read", "cache_creation")}
    got_c, got_u = counters(), usage()
    h.check(got_c == want_c and got_u == want_u,
            "%s: the database equals the script's tally (%d calls, %d lines added, %d commits)"
            % (what, want_u["calls"], want_c.get("claude_code.lines_of_code.count|added", 0),
               want_c.get("claude_code.commit.count|", 0))
            + ("" if got_c == want_c and got_u == want_u else
               "\n  want %r %r\n  got  %r %r" % (want_c, want_u, got_c, got_u)))


def status_count(code):
    """OTLP answers with this status so far (the OTLP paths count under endpoint "other")."""
    st, text = col.metrics()
    if st != 200:
        h.fail("GET /metrics: %s" % st)
    m = re.search(r'aimeter_http_requests_total\{endpoint="other",status="%d"\} (\d+)' % code,
                  text)
    return int(m.group(1)) if m else 0


def shed_address():
    """Unknown tokens past the collector's budget for 127.0.0.1: from here on it answers 429."""
    c = h.Client(w, col.port)
    for i in range(AUTHFAIL_BURST + 5):
        st, hd, _ = c.request("POST", "/v1/logs", b"{}", {
            "Content-Type": "application/json", "Authorization": "Bearer amotlp_unknown%d" % i})
        if st == 429:
            h.check("Retry-After" in hd, "the collector sheds 127.0.0.1 with 429 and Retry-After "
                                         "after %d unknown tokens" % i)
            c.close()
            return
    h.fail("the collector never answered 429 to unknown tokens")


def run_protocol(d, protocol, seed):
    url = "https://localhost:%d" % relay.port
    what = "http/" + protocol

    # 1. cumulative, gzip, several exports
    d.do("start", op="start", protocol=protocol, temporality="cumulative", gzip=True, url=url,
         token=token)
    for k in range(3):
        d.do("record", op="record", seed=seed + k, n=40)
        t = d.do("flush", op="flush")
        exact(t["tally"], "%s cumulative gzip, export %d" % (what, k + 1))
    t = d.do("flush", op="flush")
    exact(t["tally"], "%s cumulative, an export with nothing new" % what)

    # 2. counter reset: a new instance starts its counters at zero with a new start time
    d.do("stop", op="stop")
    d.do("start", op="start", protocol=protocol, temporality="cumulative", gzip=False, url=url,
         token=token)
    d.do("record", op="record", seed=seed + 10, n=7)
    t = d.do("flush", op="flush")
    exact(t["tally"], "%s after a counter reset (new SDK instance, smaller values)" % what)
    d.do("record", op="record", seed=seed + 11, n=60)
    t = d.do("flush", op="flush")
    exact(t["tally"], "%s the reset counter grows past its old run" % what)

    # 3. 503 with Retry-After while PostgreSQL is down
    d.do("record", op="record", seed=seed + 20, n=25)
    n503 = status_count(503)
    h.pg_stop()
    try:
        h.wait_for(lambda: h.Client(w, col.port).request("GET", "/readyz")[0] == 503,
                   "readyz to say the database is gone")
        d.send(op="flush")
        h.wait_for(lambda: status_count(503) > n503, "the exporters to get 503")
        time.sleep(1.5)
    finally:
        h.pg_start()
    t = d.answer("flush across a PostgreSQL outage")
    h.check(status_count(503) - n503 >= 1, "%s: %d exports answered 503 with Retry-After, then "
            "retried by the exporter" % (what, status_count(503) - n503))
    exact(t["tally"], "%s after retries of 503s" % what)

    # 4. answers lost after the commit: the retry of an export that landed
    d.do("record", op="record", seed=seed + 30, n=30)
    relay.drop(2)
    before = relay.dropped
    t = d.do("flush", op="flush")
    h.check(relay.dropped - before == 2, "%s: two answers lost after the commit" % what)
    exact(t["tally"], "%s after the exporter retried exports that had landed" % what)

    # 5. 429 with Retry-After
    d.do("record", op="record", seed=seed + 40, n=10)
    n429 = status_count(429)
    shed_address()
    t = d.do("flush", op="flush")
    h.check(status_count(429) - n429 >= 2, "%s: exports answered 429, waited out Retry-After, "
            "landed" % what)
    exact(t["tally"], "%s after retries of 429s" % what)

    # 6. delta temporality (another instance), no gzip, with a lost answer
    d.do("stop", op="stop")
    d.do("start", op="start", protocol=protocol, temporality="delta", gzip=False, url=url,
         token=token)
    for k in range(3):
        d.do("record", op="record", seed=seed + 50 + k, n=35)
        if k == 1:
            relay.drop(1)
        t = d.do("flush", op="flush")
        exact(t["tally"], "%s delta, export %d%s" % (what, k + 1,
                                                      " (answer lost, retried)" if k == 1 else ""))
    t = d.do("stop", op="stop")
    exact(t["tally"], "%s after the SDK's shutdown" % what)


bindir = realtools.install_tools(HERE, "otlp-sdk-")
mods = os.path.dirname(bindir)
for p in SDK_PACKAGES:
    realtools.log("%s@%s" % (p, realtools.package_version(bindir, p)))
w = h.setup("otlp_sdk")
col = h.Collector(w)
r = subprocess.run([h.CTL, "otlp-token", "create", "--name", "sdk"], env=h.pg_env(w),
                   capture_output=True, text=True)
if r.returncode != 0:
    h.fail("otlp-token create: " + r.stderr)
token = r.stdout.strip()
relay = Relay(col.port)
home = w.p("node-home")
os.makedirs(home)
drv = Driver(mods, home)
try:
    run_protocol(drv, "json", 1000)
    run_protocol(drv, "protobuf", 2000)
finally:
    drv.p.stdin.close()
    rc = drv.p.wait(60)
    relay.close()
h.check(rc == 0, "drive.cjs exited cleanly")
series = h.psql(w, "SELECT count(*) FROM aimeter.otlp_series")
h.check(int(series) > 0, "series state is kept in PostgreSQL (%s series)" % series)
col.stop()
print("all OTLP SDK checks passed")
