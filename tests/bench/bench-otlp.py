#!/usr/bin/env python3
"""bench-otlp.py: OTLP/HTTP ingest throughput beside the batch endpoint, in one run.

One collector, one database. Workloads, each run by CLIENTS concurrent TLS keep-alive clients
holding one request in flight (the next as soon as the answer arrives):
  batch        /v1/batches, 1,000-event protobuf batches (zstd): the baseline, events/s
  logs pb/json /v1/logs, 1,000 claude_code.api_request records a request (Claude Code's
               attributes), log records/s
  metrics pb/json  /v1/metrics, 1,000 cumulative data points a request (lines of code by
               type and model, one series per session), data points/s; the series exist
               before the clock starts, so each point is the steady-state update
The workloads alternate over ROUNDS rounds and each figure is the median of its rounds, so a
noisy neighbour weighs on all of them alike. Bodies are built before the clock starts. Every
record and point must be stored exactly once (checked); timings are printed, never asserted.
usage: bench-otlp.py [--toy]   (needs the PostgreSQL of tests/run and AM_COLLECTOR, AM_CTL, AM_TOOL)
"""
import importlib.util
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import otlp_wire as ow  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(HERE, "..", "integration", "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

toy = "--toy" in sys.argv
CLIENTS = 2 if toy else 4
PER_CLIENT = 1 if toy else 5  # requests per client per round
ITEMS = 100 if toy else 1000  # events, records or points per request
ROUNDS = 1 if toy else 3
RESOURCE = {"service.name": "claude-code", "service.version": "2.1.328",
            "user.email": "bench@example.com", "user.account_uuid": "acct-bench",
            "organization.id": "org-bench", "terminal.type": "non-interactive",
            "host.arch": "amd64", "os.type": "linux"}
LOC = "claude_code.lines_of_code.count"
T0 = time.time_ns() - 3600 * 10**9


def api_request(key, i):
    return (T0 + i, "claude_code.api_request", {
        "event.name": "api_request", "event.timestamp": "2026-12-04T10:00:00.000Z",
        "event.sequence": i, "session.id": "s-" + key, "prompt.id": "p-%s-%d" % (key, i),
        "request_id": "req_%s_%d" % (key, i), "model": "claude-sonnet-4-5-20250929",
        "input_tokens": 100 + i % 900, "output_tokens": 10 + i % 300,
        "cache_read_tokens": 2000 + i % 5000, "cache_creation_tokens": i % 700,
        "cost_usd": 0.0123, "duration_ms": 1500 + i % 800, "speed": "standard"})


def log_bodies(enc, rnd):
    mk = ow.pb_logs if enc == "pb" else ow.js_logs
    return [[mk(RESOURCE, [api_request("%s-%d-%d-%d" % (enc, rnd, c, k), i)
                           for i in range(ITEMS)])
             for k in range(PER_CLIENT)] for c in range(CLIENTS)]


def metric_body(enc, c, step):
    """Client c's series (ITEMS sessions x added), cumulative value step at time step."""
    pts = [(T0, T0 + step * 10**6 + i, step, {"type": "added", "model": "claude-sonnet-4-5",
                                              "session.id": "%s-%d-%d" % (enc, c, i)})
           for i in range(ITEMS)]
    return (ow.pb_counter if enc == "pb" else ow.js_counter)(RESOURCE, LOC, 2, pts)


def metric_bodies(enc, rnd):
    # Step 0 was the warm-up; each request adds 1 to every series of its client.
    return [[metric_body(enc, c, 1 + rnd * PER_CLIENT + k) for k in range(PER_CLIENT)]
            for c in range(CLIENTS)]


def drive(path, bodies, headers):
    """Every client posts its bodies back to back; returns the wall time of the whole."""
    errors, start = [], threading.Barrier(CLIENTS + 1)

    def client(bs):
        cl = h.Client(w, col.port)
        cl.request("GET", "/healthz")  # the TLS handshake before the clock
        start.wait()
        for b in bs:
            st, _, data = cl.request("POST", path, b, headers)
            if st != 200:
                errors.append((st, data[:200]))
        cl.close()

    threads = [threading.Thread(target=client, args=(bs,)) for bs in bodies]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        h.fail("%s answered %d non-200s: %s" % (path, len(errors), errors[:3]))
    return wall


w = h.setup("bench_otlp")
col = h.Collector(w)
c = h.Client(w, col.port)
_, dtoken, _ = h.enroll(w, c, "bench-host")
r = subprocess.run([h.CTL, "otlp-token", "create", "--name", "bench"], env=h.pg_env(w),
                   capture_output=True, text=True)
if r.returncode != 0:
    h.fail("otlp-token create: " + r.stderr)
otoken = r.stdout.strip()
PB = {"Content-Type": "application/x-protobuf", "Authorization": "Bearer " + otoken}
JS = {"Content-Type": "application/json", "Authorization": "Bearer " + otoken}
BATCH = {"Content-Type": "application/x-protobuf", "Content-Encoding": "zstd",
         "Authorization": "Bearer " + dtoken}

# Warm-up, untimed: the month's partition, and every series a metrics request updates.
(warm,), _, _ = h.mkbatches(w, "warm", 1, 1, 999)
if c.post_batch(warm, dtoken)[0] != 200:
    h.fail("warm-up batch refused")
for enc, hd in (("pb", PB), ("js", JS)):
    for cl in range(CLIENTS):
        if c.request("POST", "/v1/metrics", metric_body(enc, cl, 0), hd)[0] != 200:
            h.fail("warm-up metrics refused")
c.close()

rates = {k: [] for k in ("batch", "logs-pb", "logs-js", "metrics-pb", "metrics-js")}
per_round = CLIENTS * PER_CLIENT * ITEMS
# One generator run per client for all rounds: its events spread over the day as one agent's
# would (seeds share timestamps, and the write path refuses implausible rates per identity).
sets = [h.mkbatches(w, "c%d" % cl, PER_CLIENT * ROUNDS, ITEMS, 1000 + cl)
        for cl in range(CLIENTS)]
n_events = sum(s[1] for s in sets)
for rnd in range(ROUNDS):
    batches = [s[0][rnd * PER_CLIENT:(rnd + 1) * PER_CLIENT] for s in sets]
    work = [("batch", "/v1/batches", batches, BATCH),
            ("logs-pb", "/v1/logs", log_bodies("pb", rnd), PB),
            ("logs-js", "/v1/logs", log_bodies("js", rnd), JS),
            ("metrics-pb", "/v1/metrics", metric_bodies("pb", rnd), PB),
            ("metrics-js", "/v1/metrics", metric_bodies("js", rnd), JS)]
    for name, path, bodies, hd in work:
        rates[name].append(per_round / drive(path, bodies, hd))

# Exactly once, or the figures mean nothing.
# (The batches' generated events are Claude Code's too: one count for both.)
stored = int(h.psql(w, "SELECT count(*) FROM aimeter.usage_events"))
h.check(stored == n_events + 1 + 2 * ROUNDS * per_round,
        "every batch event and log record stored once (%d)" % stored)
points = int(h.psql(w, "SELECT coalesce(sum(value), 0)::bigint FROM aimeter.otlp_counters_daily"))
h.check(points == 2 * ROUNDS * per_round,
        "every data point's growth counted once (%d)" % points)
col.stop()

med = {k: statistics.median(v) for k, v in rates.items()}
base = med["batch"]
print("bench-otlp: %d clients, %d items a request, %d requests a client, median of %d rounds%s"
      % (CLIENTS, ITEMS, PER_CLIENT, ROUNDS, " (toy)" if toy else ""))
print("  %-48s %12s  %s" % ("workload", "items/s", "ratio to /v1/batches events/s"))
for k, label in (("batch", "/v1/batches events (protobuf, zstd) [baseline]"),
                 ("logs-pb", "OTLP log records, protobuf"),
                 ("logs-js", "OTLP log records, JSON"),
                 ("metrics-pb", "OTLP data points, protobuf (cumulative update)"),
                 ("metrics-js", "OTLP data points, JSON (cumulative update)")):
    print("  %-48s %12.0f  %.2f   rounds: %s" % (label, med[k], med[k] / base,
                                                 ", ".join("%.0f" % x for x in rates[k])))
h.psql(w, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % w.dbname, db="postgres")
