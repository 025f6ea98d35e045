#!/usr/bin/env python3
"""test-collector-ingest.py: the collector over real TLS into the real PostgreSQL.

Happy path counts; the same batch twice (duplicates, nothing but the batch log
changes); every bad input gets its status while a well-behaved client keeps
being served; enroll, revoke; wrong CA and plaintext on the TLS port fail
cleanly; SIGHUP reloads the certificate without dropping a connection;
configuration check (-n) and secret-file permissions; SIGTERM exits 0.
"""
import importlib.util
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

w = h.setup("ingest")
col = h.Collector(w, extra={("limits", "max_body_bytes"): "1048576",
                            ("limits", "max_events"): "1500",
                            ("limits", "max_header_bytes"): "4096"})
good = h.Client(w, col.port)

st, _, body = good.request("GET", "/healthz")
h.check(st == 200 and body == b"ok\n", "healthz answers 200")
st, _, _ = good.request("GET", "/readyz")
h.check(st == 200, "readyz answers 200 with a migrated database")

device, token, keylen = h.enroll(w, good, "host-a")
h.check(len(token) == 64 and keylen == 32, "enroll returns a token and the project-label key")
stored = h.psql(w, "SELECT encode(token_hash, 'hex') FROM aimeter.devices WHERE device_id = '%s'" % device)
h.check(stored == __import__("hashlib").sha256(token.encode()).hexdigest(),
        "only the SHA-256 of the token is stored")
h.check(token not in h.psql(w, "SELECT string_agg(d::text, ',') FROM aimeter.devices d"),
        "the token itself is nowhere in the devices table")

# --- happy path ------------------------------------------------------------------
batches, n_events, out_sum = h.mkbatches(w, "happy", 5, 1000, 1)
for b in batches:
    st, hd, data = good.post_batch(b, token)
    h.check(st == 200 and hd.get("Content-Type") == "application/x-protobuf", "batch accepted (200)")
    acc, dup, rej = h.parse_ack(w, data)
    h.check((acc, dup, rej) == (1000, 0, 0), "ack: 1000 accepted, 0 duplicates, 0 rejected")
n, s = h.totals(w)
h.check((n, s) == (n_events, out_sum), "usage_events holds exactly the %d events sent" % n_events)
h.check(h.rollup_total(w) == n_events, "usage_daily counts each event once")

# --- the same batch twice --------------------------------------------------------
before = h.snapshot(w)
batch_log = int(h.psql(w, "SELECT count(*) FROM aimeter.ingest_batches"))
st, _, data = good.post_batch(batches[2], token)
acc, dup, rej = h.parse_ack(w, data)
h.check(st == 200 and (acc, dup, rej) == (0, 1000, 0), "a replayed batch is acknowledged as 1000 duplicates")
h.check(h.snapshot(w) == before, "every table but the batch log is unchanged by the replay")
h.check(int(h.psql(w, "SELECT count(*) FROM aimeter.ingest_batches")) == batch_log + 1,
        "the batch log records the replay")

# --- bad inputs, each with its status, a good client served in between ----------
seq = [0]


def good_still_served():
    seq[0] += 1
    bs, _, _ = h.mkbatches(w, "good%d" % seq[0], 1, 10, 1000 + seq[0])
    st2, _, d2 = good.post_batch(bs[0], token)
    h.check(st2 == 200 and h.parse_ack(w, d2)[0] == 10, "  ...and the well-behaved client is still served")


def bad(name, status, fn):
    got = fn()
    h.check(got == status, "%s: %s (got %s)" % (name, status, got))
    good_still_served()


def post(body, headers):
    c = h.Client(w, col.port)
    try:
        st, _, _ = c.request("POST", "/v1/batches", body, headers)
    finally:
        c.close()
    return st


hdr = {"Content-Type": "application/x-protobuf", "Content-Encoding": "zstd",
       "Authorization": "Bearer " + token}
bad("garbage body", 400, lambda: post(b"this is not zstd at all", hdr))
bad("truncated zstd", 400, lambda: post(batches[0][:len(batches[0]) // 2], hdr))
bad("malformed HTTP", 400, lambda: h.status_of(h.raw_request(col.port, b"BLAH /x\r\n\r\n", True, w)))
bad("no Authorization", 401, lambda: post(batches[0], {k: v for k, v in hdr.items() if k != "Authorization"}))
bad("unknown token", 401, lambda: post(batches[0], dict(hdr, Authorization="Bearer " + "0" * 64)))
v2, _, _ = h.mkbatches(w, "v2", 1, 5, 77, schema=4)  # 2: actions (issue 14), 3: request ids (15)
bad("unsupported schema version", 409, lambda: post(v2[0], hdr))
big, _, _ = h.mkbatches(w, "big", 1, 2000, 78)
bad("too many events", 413, lambda: post(big[0], hdr))
bad("body over the limit", 413, lambda: h.status_of(h.raw_request(
    col.port, b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
    b"Content-Encoding: zstd\r\nContent-Length: 2000000\r\n\r\n" + b"x" * 1000, True, w)))
bad("wrong Content-Type", 415, lambda: post(batches[0], dict(hdr, **{"Content-Type": "application/json"})))
bad("wrong Content-Encoding", 415, lambda: post(batches[0], dict(hdr, **{"Content-Encoding": "gzip"})))
bad("headers over the limit", 431, lambda: h.status_of(h.raw_request(
    col.port, b"GET /healthz HTTP/1.1\r\nX-Pad: " + b"a" * 8000 + b"\r\n\r\n", True, w)))
bad("chunked body", 411, lambda: h.status_of(h.raw_request(
    col.port, b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    True, w)))
bad("unknown path", 404, lambda: h.status_of(h.raw_request(col.port, b"GET /nope HTTP/1.1\r\n\r\n", True, w)))
bad("wrong method", 405, lambda: h.status_of(h.raw_request(col.port, b"GET /v1/batches HTTP/1.1\r\n\r\n", True, w)))


def bad_enroll():
    path = w.p("er-bad.bin")
    h.tool("enroll-req", path, "wrong-secret-wrong-secret", "host-b")
    c = h.Client(w, col.port)
    st, _, _ = c.request("POST", "/v1/enroll", open(path, "rb").read(),
                         {"Content-Type": "application/x-protobuf"})
    c.close()
    return st


bad("wrong enrollment secret", 401, bad_enroll)

# Pipelined requests on one connection are answered in order.
resp = h.raw_request(col.port, b"GET /healthz HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n"
                     b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", True, w, until_close=True)
h.check([int(x) for x in __import__("re").findall(rb"HTTP/1\.1 (\d+)", resp)] == [200, 404, 200],
        "pipelined requests answered in order")

# --- TLS: wrong CA, plaintext on the TLS port -------------------------------------
try:
    s = h.tls_context(w, "otherca").wrap_socket(socket.create_connection(("127.0.0.1", col.port), 5),
                                                server_hostname="localhost")
    s.close()
    h.fail("a client trusting another CA completed the handshake")
except ssl.SSLCertVerificationError:
    h.check(True, "a client with the wrong CA refuses the collector's certificate")
resp = h.raw_request(col.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", False, read_timeout=5)
h.check(not resp.startswith(b"HTTP/"), "plaintext HTTP on the TLS port gets no HTTP answer and is closed")
good_still_served()
st, text = col.metrics()
h.check(st == 200 and "aimeter_tls_handshake_failures_total" in text,
        "metrics are served on the metrics listener")
st, _, m = good.request("GET", "/metrics")
h.check(st == 404, "the TLS listener does not answer /metrics (%d)" % st)
fails = int(__import__("re").search(r"aimeter_tls_handshake_failures_total (\d+)", text).group(1))
h.check(fails >= 2, "TLS handshake failures are counted (%d)" % fails)
for needle in ('aimeter_http_requests_total{endpoint="batches",status="200"}',
               'aimeter_http_requests_total{endpoint="batches",status="409"}',
               'aimeter_events_total{outcome="accepted"}', 'aimeter_events_total{outcome="duplicate"} 1000',
               "aimeter_batch_latency_seconds_bucket", "aimeter_db_transaction_seconds_count",
               "aimeter_pending_batches", "aimeter_db_connections 3"):
    h.check(needle in text, "metrics carry " + needle)

# --- revoke ------------------------------------------------------------------------
r = subprocess.run([h.CTL, "device", "list"], env=h.pg_env(w), capture_output=True, text=True)
h.check(r.returncode == 0 and device in r.stdout, "aimeterctl device list shows the device")
r = subprocess.run([h.CTL, "device", "revoke", device], env=h.pg_env(w), capture_output=True, text=True)
h.check(r.returncode == 0, "aimeterctl device revoke succeeds")
bs, _, _ = h.mkbatches(w, "after-revoke", 1, 10, 5000)
st, _, _ = good.post_batch(bs[0], token)
h.check(st == 401, "a revoked token gets 401")
# Issue 11: the revoked device's host stays out until an administrator allows it.
r = subprocess.run([h.CTL, "device", "allow-reenroll", "host-a"], env=h.pg_env(w),
                   capture_output=True, text=True)
h.check(r.returncode == 0, "aimeterctl device allow-reenroll lets the revoked host back")
device, token, _ = h.enroll(w, good, "host-a")
good_still_served()

# --- SIGHUP: new certificate for new connections, old connection kept ---------------
h.make_server_cert(w, "ca", "server2")
old_der = ssl.PEM_cert_to_DER_cert(open(w.p("server.pem")).read())
new_der = ssl.PEM_cert_to_DER_cert(open(w.p("server2.pem")).read())
shutil.copy(w.p("server2.pem"), w.p("server.pem"))
shutil.copy(w.p("server2.key"), w.p("server.key"))
col.signal(signal.SIGHUP)
h.wait_for(lambda: "configuration and certificates reloaded" in col.log(), "the reload")
good_still_served()  # the same keep-alive connection as before
s = h.tls_context(w).wrap_socket(socket.create_connection(("127.0.0.1", col.port), 5),
                                 server_hostname="localhost")
h.check(s.getpeercert(binary_form=True) == new_der and new_der != old_der,
        "after SIGHUP new connections get the new certificate")
s.close()
with open(w.p("broken.pem"), "w") as f:
    f.write("not a certificate\n")
shutil.copy(w.p("broken.pem"), w.p("server.pem"))
col.signal(signal.SIGHUP)
h.wait_for(lambda: "keeping the running one" in col.log(), "the refused reload")
good_still_served()
shutil.copy(w.p("server2.pem"), w.p("server.pem"))

# --- configuration checks ------------------------------------------------------------
r = subprocess.run([h.COLLECTOR, "-n", "-c", col.conf_path], capture_output=True, text=True)
h.check(r.returncode == 0 and "configuration OK" in r.stdout, "-n accepts the running configuration")
os.chmod(w.p("secret"), 0o644)
r = subprocess.run([h.COLLECTOR, "-n", "-c", col.conf_path], capture_output=True, text=True)
h.check(r.returncode == 1 and "readable by group or others" in r.stderr,
        "-n refuses a secret file readable by group or others, saying so")
os.chmod(w.p("secret"), 0o600)
with open(w.p("bad.conf"), "w") as f:
    f.write("[limits]\nmax_connections = lots\nbogus = 1\n[listen]\ntls = 127.0.0.1:0\n")
r = subprocess.run([h.COLLECTOR, "-n", "-c", w.p("bad.conf")], capture_output=True, text=True)
h.check(r.returncode == 1 and "bad.conf:2:" in r.stderr and "bad.conf:3:" in r.stderr,
        "-n reports every error as file:line")
r = subprocess.run([h.COLLECTOR, "-n", "-c", col.conf_path, "-o", "limits.max_connections=0"],
                   capture_output=True, text=True)
h.check(r.returncode == 1 and "max_connections" in r.stderr, "flags override the file and are checked")

good.close()
col.stop()
h.check(True, "SIGTERM: the collector exits 0")
