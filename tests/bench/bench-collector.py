#!/usr/bin/env python3
"""bench-collector.py: committed events/s through aimeter-collector beside the
same SQL write path driven directly, and beside a plain COPY, in one run.

Collector: 8 concurrent TLS clients, each keeping one realistic 1,000-event
batch in flight (keep-alive, next batch as soon as the ack arrives).
Direct: the write path of docs/write-path.md as psql scripts (COPY staging,
aimeter.ingest_staged(), COMMIT), one 1,000-row batch per transaction, with as
many parallel psql sessions as the collector has database connections.
Plain COPY: the same rows into an unindexed table, same sessions.

Prints figures and ratios only; never asserts timings (machines are noisy).
usage: bench-collector.py [--toy]   (needs the PostgreSQL of tests/run)
"""
import importlib.util
import os
import subprocess
import sys
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "h", os.path.join(here, "..", "integration", "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

toy = "--toy" in sys.argv
CLIENTS = 8
POOL = 3
PER_CLIENT = 2 if toy else 25
EVENTS = 100 if toy else 1000
TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids):
    total = 0
    for pid in pids:
        try:
            f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except (OSError, IndexError):
            pass
    return total / TICK


class Sampler(threading.Thread):
    """CPU of processes that may exit before the end: the last value seen per pid."""

    def __init__(self, pids_fn):
        super().__init__(daemon=True)
        self.pids_fn, self.seen, self.stop = pids_fn, {}, threading.Event()

    def run(self):
        while not self.stop.is_set():
            for pid in self.pids_fn():
                v = cpu_of([pid])
                if v > 0:
                    self.seen[pid] = v
            time.sleep(0.05)

    def total(self):
        self.stop.set()
        self.join()
        return sum(self.seen.values())


def self_cpu():
    t = os.times()
    return t.user + t.system


def backends(w, app):
    return h.psql(w, "SELECT pid FROM pg_stat_activity WHERE application_name = '%s' "
                     "AND datname = current_database()" % app).split()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else 0


w = h.setup("bench")
total = CLIENTS * PER_CLIENT * EVENTS

# --- collector -------------------------------------------------------------------
col = h.Collector(w, extra={("database", "pool_size"): str(POOL),
                            ("database", "device_cache_ms"): "60000"})
c = h.Client(w, col.port)
_, token, _ = h.enroll(w, c)
# One batch first, so the month's partition exists before the clock starts.
(warm,), _, _ = h.mkbatches(w, "warm", 1, 1, 999)
if c.post_batch(warm, token)[0] != 200:
    h.fail("warm-up batch refused")
c.close()
sets = [h.mkbatches(w, "c%d" % i, PER_CLIENT, EVENTS, 1000 + i)[0] for i in range(CLIENTS)]
lat = []
errors = []
lock = threading.Lock()
start = threading.Barrier(CLIENTS + 1)


def client(bs):
    cl = h.Client(w, col.port)
    cl.request("GET", "/healthz")  # handshake before the clock starts
    start.wait()
    for b in bs:
        t0 = time.perf_counter()
        st, _, _ = cl.post_batch(b, token)
        dt = time.perf_counter() - t0
        with lock:
            lat.append(dt)
            if st != 200:
                errors.append(st)
    cl.close()


threads = [threading.Thread(target=client, args=(bs,)) for bs in sets]
for t in threads:
    t.start()
pg_pids = backends(w, "aimeter-collector")
cpu0 = (cpu_of([col.proc.pid]), cpu_of(pg_pids), self_cpu())
start.wait()
t0 = time.perf_counter()
for t in threads:
    t.join()
wall_col = time.perf_counter() - t0
cpu1 = (cpu_of([col.proc.pid]), cpu_of(pg_pids), self_cpu())
col.stop()
if errors:
    h.fail("collector answered %d non-200 statuses: %s" % (len(errors), errors[:5]))
n_col, _ = h.totals(w)
if n_col != total + 1:
    h.fail("collector path stored %d events, expected %d" % (n_col, total))

# --- direct SQL write path -----------------------------------------------------------
rows_dir = w.p("rows")
h.tool("copyrows", rows_dir, CLIENTS * PER_CLIENT, EVENTS, 5000, w.p("person.key"))
scripts = sorted(os.path.join(rows_dir, f) for f in os.listdir(rows_dir) if f.endswith(".sql"))
rowfiles = sorted(os.path.join(rows_dir, f) for f in os.listdir(rows_dir) if f.endswith(".rows"))


def run_sessions(files_per_session, app):
    env = h.pg_env(w)
    env["PGOPTIONS"] = ""
    env["PGAPPNAME"] = app
    procs = []
    t0 = time.perf_counter()
    for fs in files_per_session:
        args = ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1"]
        for f in fs:
            args += ["-f", f]
        procs.append(subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    sampler = Sampler(lambda: backends(w, app))
    sampler.start()
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            h.fail("psql: " + err.decode())
    wall = time.perf_counter() - t0
    return wall, sampler.total()


split = [scripts[i::POOL] for i in range(POOL)]
wall_direct, cpu_direct = run_sessions(split, "bench-direct")
n_all, _ = h.totals(w)
if n_all != 2 * total + 1:
    h.fail("direct path stored %d events, expected %d" % (n_all - total - 1, total))

# --- plain COPY ------------------------------------------------------------------------
h.psql(w, "CREATE TABLE public.bench_copy (LIKE aimeter.stage_event_template)")
copy_scripts = []
for f in rowfiles:
    s = f + ".copy.sql"
    with open(s, "w") as out:
        out.write("COPY public.bench_copy FROM STDIN;\n")
        out.write(open(f).read())
        out.write("\\.\n")
    copy_scripts.append(s)
wall_copy, cpu_copy = run_sessions([copy_scripts[i::POOL] for i in range(POOL)], "bench-copy")
n_copy = int(h.psql(w, "SELECT count(*) FROM public.bench_copy"))
if n_copy != total:
    h.fail("plain COPY stored %d rows, expected %d" % (n_copy, total))

rate_col = total / wall_col
rate_direct = total / wall_direct
rate_copy = total / wall_copy
print("bench-collector: %d events per path, %d-event batches%s" % (total, EVENTS, " (toy)" if toy else ""))
print("  %-44s %10s  %s" % ("path", "events/s", "notes"))
print("  %-44s %10.0f  p50 %.0f ms, p99 %.0f ms ack latency, %d clients" % (
    "collector (TLS, HTTP, zstd, protobuf, pool %d)" % POOL, rate_col, pct(lat, 50) * 1000,
    pct(lat, 99) * 1000, CLIENTS))
print("  %-44s %10.0f  %d psql sessions, 1 batch per transaction" % (
    "direct SQL write path", rate_direct, POOL))
print("  %-44s %10.0f  %d psql sessions, unindexed table" % ("plain COPY", rate_copy, POOL))
print("  ratio collector / direct SQL: %.2f (target >= 0.8); p99 %.0f ms (target < 250 ms)" % (
    rate_col / rate_direct, pct(lat, 99) * 1000))
print("  CPU seconds per 1,000 events, collector run: collector %.3f, PostgreSQL backends %.3f, "
      "test clients %.3f" % ((cpu1[0] - cpu0[0]) * 1000 / total, (cpu1[1] - cpu0[1]) * 1000 / total,
                             (cpu1[2] - cpu0[2]) * 1000 / total))
print("  CPU seconds per 1,000 events, direct run: PostgreSQL backends %.3f; plain COPY: %.3f" % (
    cpu_direct * 1000 / total, cpu_copy * 1000 / total))
h.psql(w, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % w.dbname, db="postgres")
