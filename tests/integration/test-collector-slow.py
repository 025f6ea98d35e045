#!/usr/bin/env python3
"""test-collector-slow.py: 200 slow connections time out while a good client is served.

Slowloris shapes: TLS clients that dribble header bytes, TLS clients that send
headers and then stall in the body, and TCP clients that never start the TLS
handshake. Each must be closed by the collector within its timeout (plus
slack), while a well-behaved client posts batches the whole time.
"""
import importlib.util
import os
import re
import socket
import threading
import time

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

TIMEOUT_MS = 2000
w = h.setup("slow")
# The good client posts 100 events a batch, all at yesterday 00:00 and on
# (mkbatches), many times a second: far past the per-device rate cap, which
# holds across batches since 0108 and is not under test here.
h.psql(w, "UPDATE aimeter.settings SET max_calls_per_minute = 1000000000")
col = h.Collector(w, extra={("limits", "header_timeout_ms"): str(TIMEOUT_MS),
                            ("limits", "body_timeout_ms"): str(TIMEOUT_MS),
                            ("limits", "idle_timeout_ms"): "5000",
                            ("limits", "max_connections"): "1000",
                            # 200 slow clients share 127.0.0.1 here; the cap is not under test.
                            ("limits", "max_connections_per_address"): "1000"})
good = h.Client(w, col.port)
device, token, _ = h.enroll(w, good)
ready = threading.Barrier(201)
results = []
lock = threading.Lock()


def slow(kind):
    s = socket.create_connection(("127.0.0.1", col.port), timeout=30)
    try:
        if kind != "silent":
            s = h.tls_context(w).wrap_socket(s, server_hostname="localhost")
        ready.wait(60)
        t0 = time.time()
        got = b""
        if kind == "headers":
            data = b"POST /v1/batches HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
        elif kind == "body":
            s.sendall(b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
            data = b"b" * 200
        else:
            data = b""
        s.settimeout(0.25)
        i = 0
        while time.time() - t0 < 20:
            if i < len(data):
                try:
                    s.sendall(data[i:i + 1])
                except OSError:
                    break
                i += 1
            try:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            except socket.timeout:
                continue
            except OSError:
                break
        elapsed = time.time() - t0
    finally:
        s.close()
    with lock:
        results.append((kind, elapsed, got))


threads = []
for i in range(200):
    kind = ("headers", "body", "silent")[i % 3]
    t = threading.Thread(target=slow, args=(kind,))
    t.start()
    threads.append(t)
ready.wait(120)
t_start = time.time()
served = 0
latencies = []
seed = 100
while time.time() - t_start < TIMEOUT_MS / 1000 + 2:
    seed += 1
    (b,), n, _ = h.mkbatches(w, "g%d" % seed, 1, 100, seed)
    t0 = time.time()
    st, _, data = good.post_batch(b, token)
    latencies.append(time.time() - t0)
    if st == 200 and h.parse_ack(w, data)[0] == 100:
        served += 1
    else:
        h.fail("good client got %s while slow clients were connected" % st)
for t in threads:
    t.join(60)
h.check(len(results) == 200, "all 200 slow connections ended")
limit = TIMEOUT_MS / 1000 + 2.5
late = [r for r in results if r[1] > limit]
h.check(not late, "every slow connection was closed within %.1f s (slowest %.2f s)" %
        (limit, max(r[1] for r in results)))
timeouts408 = sum(1 for k, _, got in results if k != "silent" and got.startswith(b"HTTP/1.1 408"))
h.check(timeouts408 == sum(1 for k, _, _ in results if k != "silent"),
        "slow header and body senders got 408 before the close")
h.check(served >= 3, "the good client was served throughout (%d batches, max latency %.2f s)" %
        (served, max(latencies)))
st, text = col.metrics()
n_to = int(re.search(r"aimeter_connection_timeouts_total (\d+)", text).group(1))
h.check(n_to >= 200, "timeouts are counted (%d)" % n_to)
h.check("aimeter_connections_open 1\n" in text, "only the good client's connection is left open")
good.close()
col.stop()
