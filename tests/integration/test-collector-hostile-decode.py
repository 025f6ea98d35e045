#!/usr/bin/env python3
"""test-collector-hostile-decode.py: hostile request bodies against a real collector.

Issue 11: a 2.8 KB zstd body inflating to 32 MiB of repeated protobuf fields,
sent with a bad token, was decompressed and unpacked before the token was
looked up (peak RSS 569 MB, a concurrent /healthz waited 1.4 s, answer 409).

Checked here, against the collector of AM_COLLECTOR:
- the bomb with a bad token: 401, never decompressed (counted as such), peak
  RSS within a fixed bound, /healthz prompt while several bombs are in flight;
- the same bomb and an oversized event from an enrolled device: refused with a
  clear 400/413, /healthz prompt meanwhile, RSS bounded;
- a batch with bad events among good ones: the good ones are inserted, the bad
  ones reported with their reason in the BatchAck;
- a revoked device's cached token is purged on NOTIFY aimeter_device_revoked;
- /v1/enroll: short secrets refused, attempts rate-limited per address.

--measure: print the bad-token bomb's status, the collector's peak RSS and the
/healthz latency during the bombs, without asserting (works against older
builds too: AM_COLLECTOR=/path/to/old/aimeter-collector).
"""
import importlib.util
import os
import subprocess
import sys
import threading
import time

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

MEASURE = "--measure" in sys.argv[1:]
BOMB_SECONDS = 4.0
BOMB_THREADS = 4
HEALTHZ_BOUND = 0.5            # seconds: generous, the loop only routes
RSS_GROWTH_BOUND = 128 << 20   # bytes over the peak before the attack


def check(cond, msg):
    if MEASURE:
        print(("ok   " if cond else "NOT  ") + msg)
    else:
        h.check(cond, msg)


# --- protobuf by hand (telemetry.proto) ----------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def field_bytes(num, b):
    if isinstance(b, str):
        b = b.encode()
    return varint(num << 3 | 2) + varint(len(b)) + b


def event(i, seed, event_id=None, model="claude-sonnet-4-5-20250929", ts_ms=None, user=None):
    eid = event_id if event_id is not None else bytes([seed & 0xff, i & 0xff, i >> 8]) + b"\xa5" * 13
    ts = ts_ms if ts_ms is not None else int(time.time() * 1000) - 3600 * 1000 + i
    return (field_bytes(1, eid) + field_varint(2, ts) + field_bytes(3, "claude-code") +
            field_bytes(4, model) + field_bytes(5, "sess-%d" % seed) + field_varint(10, 3) +
            field_varint(11, 100 + i) + (field_bytes(7, user) if user else b""))


def batch(events, batch_id):
    return (field_varint(1, 1) + field_bytes(2, "dev") + field_bytes(5, batch_id) +
            b"".join(field_bytes(6, e) for e in events))


def zstd(raw):
    # Through a pipe, so the frame declares no content size: the decoder has
    # to find out while it expands.
    r = subprocess.run(["zstd", "-q", "-c", "-3"], input=raw, capture_output=True)
    if r.returncode != 0:
        h.fail("zstd: " + r.stderr.decode())
    return r.stdout


# The bomb of the issue: 32 MiB of one small field repeated (spool_dropped_events,
# field 7), so an old collector unpacks 16 million fields and answers 409.
BOMB = zstd(b"\x38\x01" * (16 << 20))
# One event declaring 30 MiB of repeated timestamps.
BIG_EVENT = zstd(field_varint(1, 1) + varint(6 << 3 | 2) + varint(30 << 20) +
                 b"\x10\x01" * (15 << 20))


# --- the collector's memory and latency ----------------------------------------------

def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak(pid):
    """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def metric(col, name):
    if hasattr(col, "metrics"):
        st, text = col.metrics()
    else:
        c = h.Client(w, col.port)
        st, _, body = c.request("GET", "/metrics")
        c.close()
        text = body.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return None


def attack(col, body, token, seconds=BOMB_SECONDS, threads=BOMB_THREADS):
    """Post body from several clients for a while; poll /healthz meanwhile.

    Returns (statuses seen, one response body, bombs answered, worst /healthz seconds,
    /healthz failures)."""
    stop = time.time() + seconds
    statuses, bodies, lock = {}, [], threading.Lock()

    def sender():
        c = h.Client(w, col.port, timeout=120)
        while time.time() < stop:
            try:
                st, _, data = c.post_batch(body, token)
            except OSError as e:
                st, data = "error: %s" % e, b""
                c.close()
            with lock:
                statuses[st] = statuses.get(st, 0) + 1
                if len(bodies) < 1:
                    bodies.append(data)
        c.close()

    ts = [threading.Thread(target=sender) for _ in range(threads)]
    for t in ts:
        t.start()
    time.sleep(0.2)  # bombs in flight first
    worst, failures = 0.0, 0
    probe = h.Client(w, col.port, timeout=30)
    while time.time() < stop:
        t0 = time.time()
        try:
            st, _, _ = probe.request("GET", "/healthz")
            if st != 200:
                failures += 1
        except OSError:
            failures += 1
            probe.close()
        worst = max(worst, time.time() - t0)
        time.sleep(0.05)
    probe.close()
    for t in ts:
        t.join()
    return statuses, (bodies[0] if bodies else b""), sum(statuses.values()), worst, failures


w = h.setup("hostile_decode")
# ASan keeps freed memory in a quarantine (256 MB by default), which would show
# as RSS; a small one keeps the figure about the collector's own memory.
asan = os.environ.get("ASAN_OPTIONS", "")
col = h.Collector(w, extra={("database", "device_cache_ms"): "60000"},
                  env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=16"})
pid = col.proc.pid
good = h.Client(w, col.port)
device, token, _ = h.enroll(w, good, "host-hostile")
batches, _, _ = h.mkbatches(w, "warm", 3, 500, 11)
for b in batches:
    st, _, _ = good.post_batch(b, token)
    check(st == 200, "warm-up batch accepted")
print("bomb: %d bytes compressed, 32 MiB of protobuf fields" % len(BOMB))

# --- 1. the bomb with a bad token ------------------------------------------------------
base_peak = proc_status(pid, "VmHWM")
unauth_before = metric(col, "aimeter_batches_unauthorized_total")
statuses, body, n, worst, hz_fail = attack(col, BOMB, "x")
peak = proc_status(pid, "VmHWM")
unauth_after = metric(col, "aimeter_batches_unauthorized_total")
if MEASURE:
    print("MEASURE bad-token bomb: status %s, %d answered; collector peak RSS %.0f MB "
          "(before the bombs %.0f MB); /healthz worst %.3f s, %d failed"
          % (statuses, n, peak / 1e6, base_peak / 1e6, worst, hz_fail))
# Past a burst of unknown tokens an address gets 429 without a database lookup.
check(statuses.get(401, 0) >= 1 and set(statuses) <= {401, 429},
      "bad-token bombs get 401, then 429 once the address used its failures (%s)" % statuses)
check(unauth_before is not None and unauth_after - unauth_before == n,
      "all %d bad-token bombs were refused before decoding (metrics)" % n)
check(peak - base_peak < RSS_GROWTH_BOUND,
      "peak RSS grew %.0f MB under bad-token bombs (bound %d MB)"
      % ((peak - base_peak) / 1e6, RSS_GROWTH_BOUND >> 20))
check(worst < HEALTHZ_BOUND and hz_fail == 0,
      "/healthz answered within %.1f s while bad-token bombs ran (worst %.3f s)" % (HEALTHZ_BOUND, worst))
st, _, _ = good.post_batch(batches[0], token)
check(st == 200, "an enrolled device at the flooding address is still served (%s)" % st)

# --- 2. the bomb from an enrolled device -------------------------------------------------
reset_peak(pid)
base_peak = proc_status(pid, "VmHWM")
statuses, body, n, worst, hz_fail = attack(col, BOMB, token)
peak = proc_status(pid, "VmHWM")
if MEASURE:
    print("MEASURE valid-token bomb: status %s, %d answered, %r; collector peak RSS %.0f MB "
          "(before %.0f MB); /healthz worst %.3f s, %d failed"
          % (statuses, n, body[:120], peak / 1e6, base_peak / 1e6, worst, hz_fail))
check(list(statuses) == [400] and b"appears twice" in body,
      "valid-token bombs are refused with 400 and a clear message (%s, %r)" % (statuses, body[:100]))
check(peak - base_peak < RSS_GROWTH_BOUND,
      "peak RSS grew %.0f MB under valid-token bombs (bound %d MB)"
      % ((peak - base_peak) / 1e6, RSS_GROWTH_BOUND >> 20))
check(worst < HEALTHZ_BOUND and hz_fail == 0,
      "/healthz answered within %.1f s while valid-token bombs ran (worst %.3f s)" % (HEALTHZ_BOUND, worst))

reset_peak(pid)
base_peak = proc_status(pid, "VmHWM")
statuses, body, n, worst, hz_fail = attack(col, BIG_EVENT, token, seconds=2.0)
peak = proc_status(pid, "VmHWM")
if MEASURE:
    print("MEASURE valid-token huge event: status %s, %r; peak RSS %.0f MB (before %.0f MB); "
          "/healthz worst %.3f s" % (statuses, body[:120], peak / 1e6, base_peak / 1e6, worst))
check(list(statuses) == [413] and b"limit" in body,
      "an event declaring 30 MiB is refused with 413 (%s, %r)" % (statuses, body[:100]))
check(peak - base_peak < RSS_GROWTH_BOUND and worst < HEALTHZ_BOUND,
      "...with RSS (+%.0f MB) and /healthz (%.3f s) bounded" % ((peak - base_peak) / 1e6, worst))

if MEASURE:
    col.stop()
    sys.exit(0)

# --- 3. bad events among good ones ---------------------------------------------------------
evs = [event(i, 7) for i in range(10)]
evs[0] = event(0, 7, user="newcomer@example.com")            # an identity new to the device
evs[3] = event(3, 7, event_id=b"short")                      # bad_event_id
evs[6] = event(6, 7, model="sonnet\x1b[2J")                  # control_character (C0)
evs[8] = event(8, 7, model="sonnet\u0085")                   # control_character (C1)
before, _ = h.totals(w)
st, _, data = good.post_batch(zstd(batch(evs, b"B" * 16)), token)
check(st == 200, "a batch with three bad events among ten is accepted (%s %r)" % (st, data[:100]))
with open(w.p("mixed-ack.bin"), "wb") as f:
    f.write(data)
ack = h.tool("ack", w.p("mixed-ack.bin"))
acc, dup, rej = h.parse_ack(w, data)
check((acc, rej) == (7, 3), "ack: 7 accepted, 3 rejected (got %d, %d)" % (acc, rej))
reasons = sorted(line.split()[1:] for line in ack.splitlines() if line.startswith("rejected "))
check(reasons == [["3", "bad_event_id"], ["6", "control_character"], ["8", "control_character"]],
      "ack names each bad event with its reason: %s" % reasons)
after, _ = h.totals(w)
check(after - before == 7, "the 7 good events are in usage_events (%d)" % (after - before))


def db_has_column(table, column):
    return h.psql(w, "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                     "'aimeter' AND table_name = '%s' AND column_name = '%s'" % (table, column)) == "1"


# With the staging column reject_reason (migration 0106), the decoder's verdicts are
# kept in rejected_events like the database's own; without it the ack alone says so.
if db_has_column("stage_event_template", "reject_reason"):
    kept = h.psql(w, "SELECT string_agg(ord || ':' || reason, ',' ORDER BY ord) FROM "
                     "aimeter.rejected_events WHERE reason IN ('bad_event_id', 'control_character')")
    check(kept == "3:bad_event_id,6:control_character,8:control_character",
          "rejected_events keeps the three bad events with their reasons (%s)" % kept)
# ingest_staged's new_identities (migration 0106): a device claiming an identity it
# never sent before is logged and counted.
if db_has_column("ingest_batches", "new_identities"):
    h.wait_for(lambda: "claimed 1 identity" in col.log(), "the new identity to be logged")
    check(metric(col, "aimeter_identities_new_total") == 1, "the new identity is counted in metrics")

# --- 4. revocation purges the token cache ---------------------------------------------------
bs, _, _ = h.mkbatches(w, "cached", 1, 5, 900)
st, _, _ = good.post_batch(bs[0], token)
check(st == 200, "the device's token is cached (device_cache_ms 60000)")
h.psql(w, "UPDATE aimeter.devices SET revoked_at = now() WHERE device_id = '%s'" % device)
h.psql(w, "SELECT pg_notify('aimeter_device_revoked', '%s')" % device)
h.wait_for(lambda: "device %s revoked: 1 cached token purged" % device in col.log(),
           "the collector to purge the revoked device's token")
bs, _, _ = h.mkbatches(w, "revoked", 1, 5, 901)
st, _, _ = good.post_batch(bs[0], token)
check(st == 401, "after NOTIFY the revoked device's cached token no longer works (%s)" % st)

# --- 5. enrollment: weak secrets, rate limit ------------------------------------------------


def enroll_status(secret, host):
    path = w.p("er-%s.bin" % host)
    h.tool("enroll-req", path, secret, host)
    c = h.Client(w, col.port)
    st, _, body = c.request("POST", "/v1/enroll", open(path, "rb").read(),
                            {"Content-Type": "application/x-protobuf"})
    c.close()
    return st, body


st, body = enroll_status("0123456789abcdef", "weak")
check(st == 400 and b"128 bits" in body, "a 64-bit secret is refused with 400 saying why (%s %r)" % (st, body))
seen = [enroll_status("wrong-secret-wrong-secret-%d" % i, "rl%d" % i)[0] for i in range(30)]
check(seen.count(401) >= 10 and 429 in seen,
      "repeated failed enrollments from one address are rate-limited (%s)" % seen)
check("enrollment from 127.0.0.1 refused" in col.log(), "enrollment failures are logged with the peer")
st, _, _ = good.request("GET", "/healthz")
check(st == 200, "the collector still serves after all of it")

good.close()
col.stop()
h.check(True, "SIGTERM: the collector exits 0, no sanitizer report")
