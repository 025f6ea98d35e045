#!/usr/bin/env python3
"""test-collector-dbfail.py: the database fails under the collector.

1. The collector's connection is terminated (pg_terminate_backend) in the
   middle of a write: the client gets 503 with Retry-After and its retry lands
   exactly once. While that write is pending, a second batch over the bound gets 429.
2. COMMIT has been sent but not answered (the test-build hook pauses there;
   a synchronous standby that never comes keeps the server from answering,
   although the transaction committed locally): terminate, 503, and the retry
   is all duplicates: exactly once.
3. PostgreSQL stopped under an in-flight batch (503, never 200), readyz flips,
   ingest answers 503, PostgreSQL started again: readyz recovers, ingest resumes.
4. SIGTERM with a batch in the database: it is answered 200, then exit 0.
"""
import importlib.util
import os
import signal
import subprocess
import threading
import time

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

w = h.setup("dbfail")


class Lock:
    """A psql session holding ACCESS EXCLUSIVE on aimeter.ingest_batches: writers stall mid-transaction."""

    def __init__(self):
        self.p = subprocess.Popen(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1"], env=h.pg_env(w),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        self.p.stdin.write("BEGIN;\nLOCK TABLE aimeter.ingest_batches IN ACCESS EXCLUSIVE MODE;\n\\echo locked\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if line.strip() != "locked":
            h.fail("could not take the lock")

    def release(self):
        try:
            self.p.stdin.write("ROLLBACK;\n")
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        self.p.wait(30)


def collector_backends(where):
    return h.psql(w, "SELECT pid FROM pg_stat_activity WHERE application_name = 'aimeter-collector' "
                     "AND datname = current_database() AND " + where).split()


class Post(threading.Thread):
    def __init__(self, port, body, token):
        super().__init__()
        self.port, self.body, self.token = port, body, token
        self.result = None

    def run(self):
        c = h.Client(w, self.port, timeout=120)
        try:
            self.result = c.post_batch(self.body, self.token)
        except Exception as e:  # the assertion below reports it
            self.result = (None, {}, repr(e).encode())
        c.close()


col = h.Collector(w, extra={("database", "max_pending_batches"): "1",
                            ("database", "pool_size"): "2"})
good = h.Client(w, col.port)
device, token, _ = h.enroll(w, good)
truth_n = truth_s = 0

# --- 1. terminated mid-write -----------------------------------------------------------
(a,), n, s = h.mkbatches(w, "a", 1, 1000, 11)
(b,), _, _ = h.mkbatches(w, "b", 1, 10, 12)
lock = Lock()
t = Post(col.port, a, token)
t.start()
h.wait_for(lambda: collector_backends("wait_event_type = 'Lock'"), "the write to block mid-transaction")
st, hd, _ = good.post_batch(b, token)
h.check(st == 429 and "Retry-After" in hd, "over the pending-work bound: 429 with Retry-After")
pids = collector_backends("wait_event_type = 'Lock'")
h.psql(w, "SELECT pg_terminate_backend(%s)" % pids[0])
t.join(60)
st, hd, body = t.result
h.check(st == 503 and "Retry-After" in hd, "connection terminated mid-write: 503 with Retry-After (got %s)" % st)
lock.release()
h.check(h.totals(w) == (0, 0), "nothing of the interrupted batch was stored")
h.wait_for(lambda: good.request("GET", "/readyz")[0] == 200, "readyz after the reconnect")
st, _, data = good.post_batch(a, token)
h.check(st == 200 and h.parse_ack(w, data) == (1000, 0, 0), "the retry lands: 1000 accepted")
truth_n += n
truth_s += s
h.check(h.totals(w) == (truth_n, truth_s) and h.rollup_total(w) == truth_n, "exactly once after the retry")

# --- 2. COMMIT sent, never answered ------------------------------------------------------
col2 = h.Collector(w, name="c2", env={"AIMETER_TEST_COMMIT_PAUSE_MS": "3000"})
h.check("test hook: pausing 3000 ms after every COMMIT" in col2.log(),
        "the COMMIT-pause hook is compiled in (tests/run builds with -Dtest_hooks=true)")
(c,), n, s = h.mkbatches(w, "c", 1, 1000, 13)
h.psql(w, "ALTER SYSTEM SET synchronous_standby_names = 'aimeter_test_never'")
h.psql(w, "SELECT pg_reload_conf()")
try:
    time.sleep(0.5)
    t = Post(col2.port, c, token)
    t.start()
    h.wait_for(lambda: "test hook: COMMIT sent" in col2.log(), "the hook to pause after COMMIT")
    h.wait_for(lambda: collector_backends("wait_event = 'SyncRep'"), "COMMIT to wait unanswered")
    for pid in collector_backends("wait_event = 'SyncRep'"):
        h.psql(w, "SELECT pg_terminate_backend(%s)" % pid)
finally:
    h.psql(w, "ALTER SYSTEM RESET synchronous_standby_names")
    h.psql(w, "SELECT pg_reload_conf()")
t.join(60)
st, hd, _ = t.result
h.check(st == 503 and "Retry-After" in hd, "COMMIT sent but unanswered: 503, never 200 (got %s)" % st)
truth_n += n
truth_s += s
h.check(h.totals(w) == (truth_n, truth_s), "the transaction had committed locally")
c2client = h.Client(w, col2.port)
h.wait_for(lambda: c2client.request("GET", "/readyz")[0] == 200, "readyz after the reconnect")
st, _, data = c2client.post_batch(c, token)
h.check(st == 200 and h.parse_ack(w, data) == (0, 1000, 0), "the retry is acknowledged as 1000 duplicates")
h.check(h.totals(w) == (truth_n, truth_s) and h.rollup_total(w) == truth_n, "exactly once after the retry")
c2client.close()
col2.stop()

# --- 3. PostgreSQL stopped and started -----------------------------------------------------
(d,), n, s = h.mkbatches(w, "d", 1, 1000, 14)
lock = Lock()
t = Post(col.port, d, token)
t.start()
h.wait_for(lambda: collector_backends("wait_event_type = 'Lock'"), "the write to block")
stopped = False
try:
    h.pg_stop()
    stopped = True
    t.join(60)
    st, hd, _ = t.result
    h.check(st == 503 and "Retry-After" in hd, "PostgreSQL stopped under an in-flight batch: 503 (got %s)" % st)
    lock.release()
    h.wait_for(lambda: good.request("GET", "/readyz")[0] == 503, "readyz to flip to 503")
    h.check(True, "readyz answers 503 while PostgreSQL is down")
    st, hd, _ = good.post_batch(d, token)
    h.check(st == 503 and "Retry-After" in hd, "ingest answers 503 with Retry-After while it is down")
    st, _, _ = good.request("GET", "/healthz")
    h.check(st == 200, "healthz still answers (the process is alive)")
finally:
    if stopped:
        h.pg_start()
h.wait_for(lambda: good.request("GET", "/readyz")[0] == 200, "readyz to recover", timeout=60)
h.check(True, "readyz recovers after PostgreSQL is back")
st, _, data = good.post_batch(d, token)
h.check(st == 200 and h.parse_ack(w, data) == (1000, 0, 0), "ingest resumes: the batch lands")
truth_n += n
truth_s += s
h.check(h.totals(w) == (truth_n, truth_s) and h.rollup_total(w) == truth_n, "exactly once overall")

# --- 4. SIGTERM with a batch in the database ---------------------------------------------------
(e,), n, s = h.mkbatches(w, "e", 1, 1000, 15)
lock = Lock()
t = Post(col.port, e, token)
t.start()
h.wait_for(lambda: collector_backends("wait_event_type = 'Lock'"), "the write to block")
col.signal(signal.SIGTERM)
h.wait_for(lambda: "no longer accepting" in col.log(), "the collector to start draining")
time.sleep(0.3)
lock.release()
t.join(60)
st, _, data = t.result
h.check(st == 200 and h.parse_ack(w, data) == (1000, 0, 0), "SIGTERM: the in-flight batch is finished (200)")
good.close()
t0 = time.time()
col.stop(timeout=20, already_signalled=True)
h.check(True, "SIGTERM: exit 0 after %.1f s" % (time.time() - t0))
truth_n += n
truth_s += s
h.check(h.totals(w) == (truth_n, truth_s), "exactly once at the end")
