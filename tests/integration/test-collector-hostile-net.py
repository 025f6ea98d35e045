#!/usr/bin/env python3
"""test-collector-hostile-net.py: network attacks that need no credentials (issue 11).

Against a real aimeter-collector over TLS (certificates made here) and the PostgreSQL of
tests/run, while a good client connects from another loopback address (127.0.0.2; Linux
routes all of 127/8 to lo):

1. pipelined-never-read: TLS connections pipeline GET /healthz as fast as they can and never
   read a reply. The collector's peak RSS stays within a fixed bound, the good client's
   /healthz is answered within a fixed bound meanwhile, and every attacker is closed (by the
   write-stall timeout) within a fixed bound.
2. 2,000 idle connections from 127.0.0.1: the good client from 127.0.0.2 is still served.
3. slowloris on headers and on body: closed by the header and body timeouts (408), the good
   client served meanwhile.
4. TLS 1.2 offers only ECDHE with AEAD suites; /metrics is answered on its own listener and
   not on the TLS port; the plain listener (behind a proxy) has no per-address cap; a
   connection kept busy ends after its lifetime.

Measurement: with --measure the script runs the same attacks against whatever AM_COLLECTOR
names and prints comparable figures (peak RSS during the pipelining attack, /healthz latency
during it, whether and when the attackers were closed, whether the good client got through
2,000 idle connections) without asserting anything. The attack only uses /healthz, which old
and new collectors answer alike. For example, before and after:

    cd /work/main-or-worktree
    export AM_CTL=build-test/collector/aimeterctl AM_TOOL=build-test/collector/test-collector-tool
    AM_COLLECTOR=/work/baseline/build-rel/collector/aimeter-collector \\
        python3 tests/integration/test-collector-hostile-net.py --measure
    AM_COLLECTOR=build-rel/collector/aimeter-collector \\
        python3 tests/integration/test-collector-hostile-net.py --measure

AM_CTL and AM_TOOL default to build-test/ of this tree. PostgreSQL: when PGHOST is set (as
tests/run sets it) that server is used; otherwise --measure starts a throwaway one with the
newest /usr/lib/postgresql/*/bin (initdb into a temporary directory, Unix socket only, run as
"postgres" when we are root) and stops it at exit. AM_CTL migrates the database: if the schema
changed between the two trees, point AM_CTL at the aimeterctl built beside the collector.
Measure mode stops the pipelining attack early if the collector's RSS passes 3 GiB, so an
unbounded collector cannot take the machine down; the figure then says so.
"""
import argparse
import atexit
import glob
import http.client
import importlib.util
import os
import re
import resource
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--measure", action="store_true",
                help="print before/after figures for AM_COLLECTOR; assert nothing")
args = ap.parse_args()
MEASURE = args.measure

if MEASURE:
    os.environ.setdefault("AM_CTL", os.path.join(TOP, "build-test", "collector", "aimeterctl"))
    os.environ.setdefault("AM_TOOL", os.path.join(TOP, "build-test", "collector",
                                                  "test-collector-tool"))


def own_postgres():
    """--measure without tests/run: a throwaway server on a Unix socket, stopped at exit."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    if not bins:
        sys.exit("no PGHOST and no /usr/lib/postgresql/*/bin to start a server with")
    pgbin = bins[-1]
    d = tempfile.mkdtemp(prefix="am-hostile-pg-")
    as_pg = []
    if os.getuid() == 0:
        shutil.chown(d, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_pg + [pgbin + "/initdb", "-D", d + "/data", "-U", "postgres", "-A", "trust",
                            "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run(as_pg + [pgbin + "/pg_ctl", "-D", d + "/data", "-l", d + "/server.log", "-w",
                            "-o", "-k %s -c listen_addresses='' -p 5432 -c fsync=off" % d, "start"],
                   check=True, capture_output=True)

    def stop():
        subprocess.run(as_pg + [pgbin + "/pg_ctl", "-D", d + "/data", "-m", "immediate", "-w",
                                "stop"], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
    atexit.register(stop)
    os.environ.update(PGHOST=d, PGPORT="5432", PGUSER="postgres", PGDATABASE="postgres")


if MEASURE and not os.environ.get("PGHOST"):
    own_postgres()

spec = importlib.util.spec_from_file_location("h", os.path.join(HERE, "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

# Fixed bounds of the checks (generous: ASan build, 2 shared cores).
RSS_BOUND_MB = 128        # the collector's peak RSS through the pipelining attack
HEALTHZ_BOUND_S = 5.0     # the good client's /healthz while any attack runs
STALL_MS = 2000           # [limits] write_stall_timeout_ms in test mode (--measure: default)
CLOSE_BOUND_S = 30.0      # every pipelining attacker closed within this of the attack's start
ATTACK_S = 40.0 if MEASURE else CLOSE_BOUND_S + 5  # longest the pipelining attack runs
RSS_ABORT_MB = 3072       # measure mode: stop attacking an unbounded collector here
SLOW_MS = 3000            # header and body timeouts
LIFETIME_MS = 8000
GOOD_SRC = "127.0.0.2"
results = []              # (what, ok) in measure mode


def expect(cond, msg):
    if MEASURE:
        results.append((msg, bool(cond)))
        print("%s - %s" % ("met" if cond else "NOT MET", msg))
    else:
        h.check(cond, msg)


def figure(msg):
    print("figure: " + msg)
    sys.stdout.flush()


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def proc_status(pid):
    """VmRSS and VmHWM of pid in MiB (0 once it is gone)."""
    out = {"VmRSS": 0, "VmHWM": 0}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in out:
                    out[k] = int(v.split()[0]) / 1024.0
    except OSError:
        pass
    return out["VmRSS"], out["VmHWM"]


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop_flag = pid, 0.0, threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            rss, _ = proc_status(self.pid)
            self.peak = max(self.peak, rss)
            self.stop_flag.wait(0.05)

    def stop(self):
        self.stop_flag.set()
        self.join()
        return self.peak


def good_healthz(w, port, timeout=HEALTHZ_BOUND_S * 2):
    """One /healthz over a fresh TLS connection from GOOD_SRC: (status or None, seconds)."""
    t0 = time.time()
    c = http.client.HTTPSConnection("localhost", port, timeout=timeout,
                                    context=h.tls_context(w), source_address=(GOOD_SRC, 0))
    try:
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        return r.status, time.time() - t0
    except (OSError, http.client.HTTPException):
        return None, time.time() - t0
    finally:
        c.close()


class Prober(threading.Thread):
    """The good client: /healthz every 0.2 s until stopped; records every latency."""

    def __init__(self, w, port):
        super().__init__(daemon=True)
        self.w, self.port = w, port
        self.lat, self.failures, self.stop_flag = [], 0, threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            st, dt = good_healthz(self.w, self.port)
            if st == 200:
                self.lat.append(dt)
            else:
                self.failures += 1
                self.lat.append(dt)
            self.stop_flag.wait(0.2)

    def stop(self):
        self.stop_flag.set()
        self.join()

    def summary(self):
        if not self.lat:
            return "no probe finished"
        s = sorted(self.lat)
        return "%d probes, %d failed, median %.0f ms, max %.0f ms" % (
            len(s), self.failures, s[len(s) // 2] * 1000, s[-1] * 1000)


# --- 1. pipelined requests, replies never read ------------------------------------------------
PIPE_REQ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 64


class Pipeliner(threading.Thread):
    """One TLS connection that writes pipelined requests and never reads.

    Sends carry a short timeout: a stalled send is retried with the same bytes (as OpenSSL
    wants), and the collector closing the connection shows as an error on a later send.
    """

    def __init__(self, w, port, deadline, abort):
        super().__init__(daemon=True)
        self.w, self.port, self.deadline, self.abort = w, port, deadline, abort
        self.closed_after = None  # seconds from the start until the collector closed us
        self.sent = 0
        self.error = None

    def run(self):
        t0 = time.time()
        try:
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fill up quickly
            raw.connect(("127.0.0.1", self.port))
            tls = h.tls_context(self.w).wrap_socket(raw, server_hostname="localhost",
                                                    do_handshake_on_connect=True)
        except OSError as e:
            self.error = "connect: %s" % e
            return
        tls.settimeout(0.5)
        pending = b""
        while time.time() < self.deadline and not self.abort.is_set():
            try:
                if not pending:
                    pending = PIPE_REQ
                n = tls.send(pending)
                self.sent += n
                pending = pending[n:]
            except (socket.timeout, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                self.closed_after = time.time() - t0
                break
        try:
            raw.close()
        except OSError:
            pass


def pipelining_attack(w, col, n_conns):
    pid = col.proc.pid
    rss0, _ = proc_status(pid)
    sampler = RssSampler(pid)
    sampler.start()
    prober = Prober(w, col.port)
    abort = threading.Event()
    t0 = time.time()
    attackers = [Pipeliner(w, col.port, t0 + ATTACK_S, abort) for _ in range(n_conns)]
    for a in attackers:
        a.start()
    prober.start()
    aborted_at = None
    while any(a.is_alive() for a in attackers):
        if sampler.peak > RSS_ABORT_MB and MEASURE:
            aborted_at = time.time() - t0
            abort.set()
        time.sleep(0.1)
    prober.stop()
    peak = sampler.stop()
    _, hwm = proc_status(pid)
    closed = [a.closed_after for a in attackers if a.closed_after is not None]
    figure("pipelining attack: %d TLS connections writing GET /healthz, never reading" % n_conns)
    figure("  collector RSS before %.0f MiB, peak during %.0f MiB (VmHWM %.0f MiB)%s" % (
        rss0, peak, hwm, " - attack stopped at %.0f s, RSS over %d MiB" % (aborted_at, RSS_ABORT_MB)
        if aborted_at else ""))
    figure("  good client /healthz during it: " + prober.summary())
    figure("  attackers closed by the collector: %d of %d%s; %.1f MiB of requests sent" % (
        len(closed), n_conns,
        " (after %.1f..%.1f s)" % (min(closed), max(closed)) if closed else "",
        sum(a.sent for a in attackers) / 1048576.0))
    for a in attackers:
        if a.error:
            figure("  attacker error: " + a.error)
    expect(not any(a.error for a in attackers), "every attacker connected")
    expect(hwm <= RSS_BOUND_MB and aborted_at is None,
           "collector peak RSS stayed within %d MiB (%.0f MiB)" % (RSS_BOUND_MB, hwm))
    expect(len(closed) == n_conns and max(closed) <= CLOSE_BOUND_S,
           "every attacker was closed within %.0f s" % CLOSE_BOUND_S)
    expect(prober.lat and prober.failures == 0 and max(prober.lat) <= HEALTHZ_BOUND_S,
           "/healthz answered within %.0f s throughout (%s)" % (HEALTHZ_BOUND_S, prober.summary()))


# --- 2. many idle connections from one address -------------------------------------------------
class IdleFlood(threading.Thread):
    """n silent TCP connections from 127.0.0.1, each replaced as soon as the collector closes
    it (as an attacker would), until stopped."""

    def __init__(self, port, n):
        super().__init__(daemon=True)
        self.port, self.n = port, n
        self.socks, self.opened, self.errors = [], 0, 0
        self.alive = 0
        self.stop_flag = threading.Event()

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind(("127.0.0.1", 0))
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        except OSError:
            self.errors += 1
        self.opened += 1
        return s

    def closed_by_peer(self, s):
        try:
            return s.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def run(self):
        self.socks = [self.connect() for _ in range(self.n)]
        while not self.stop_flag.is_set():
            poller = select.poll()
            by_fd = {}
            for s in self.socks:
                poller.register(s, select.POLLIN)
                by_fd[s.fileno()] = s
            gone = [by_fd[fd] for fd, _ in poller.poll(100) if self.closed_by_peer(by_fd[fd])]
            for s in gone:
                self.socks.remove(s)
                s.close()
                self.socks.append(self.connect())
            self.alive = len(self.socks) - len(gone)
        for s in self.socks:
            s.close()

    def stop(self):
        self.stop_flag.set()
        self.join()


def idle_flood(w, col, n):
    limit = raise_fd_limit()
    if limit < n + 200:
        n = limit - 200
        figure("  (fd limit %d: %d idle connections)" % (limit, n))
    flood = IdleFlood(col.port, n)
    t0 = time.time()
    flood.start()
    time.sleep(2.0)  # let the collector accept (and turn away) the queue
    statuses = []
    for _ in range(5):
        statuses.append(good_healthz(w, col.port))
        time.sleep(0.3)
    flood.stop()
    served = sum(1 for st, _ in statuses if st == 200)
    worst = max(dt for _, dt in statuses)
    figure("idle flood: %d silent TCP connections from 127.0.0.1 kept up for %.1f s (%d opened, "
           "%d connect errors)" % (n, time.time() - t0, flood.opened, flood.errors))
    figure("  good client from %s: %d of 5 /healthz served, slowest %.0f ms" % (
        GOOD_SRC, served, worst * 1000))
    expect(served == 5 and worst <= HEALTHZ_BOUND_S,
           "a good client from another address is served through %d idle connections" % n)


def plain_exempt(col, n=200):
    """[listen] plain sits behind a TLS proxy: its one peer address is not capped."""
    socks = [socket.create_connection(("127.0.0.1", col.plain_port), 5) for _ in range(n)]
    time.sleep(0.5)
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    closed = len(poller.poll(0))
    for s in socks:
        s.close()
    expect(closed == 0, "the plain listener keeps %d connections from one address (%d closed)"
           % (n, closed))


# --- 3. slowloris -------------------------------------------------------------------------------
def slowloris(w, col, n_each=10):
    out, lock = [], threading.Lock()

    def slow(kind):
        t0 = time.time()
        got = b""
        try:
            s = socket.create_connection(("127.0.0.1", col.port), timeout=30)
            s = h.tls_context(w).wrap_socket(s, server_hostname="localhost")
            if kind == "headers":
                data = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 400
            else:
                s.sendall(b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n"
                          b"Content-Type: application/x-protobuf\r\n\r\n")
                data = b"b" * 400
            s.settimeout(0.3)
            i = 0
            while time.time() - t0 < SLOW_MS / 1000.0 + 20:
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
            s.close()
        except OSError as e:
            got = ("error %s" % e).encode()
        with lock:
            out.append((kind, time.time() - t0, got))

    prober = Prober(w, col.port)
    threads = [threading.Thread(target=slow, args=(k,)) for k in ("headers", "body")
               for _ in range(n_each)]
    for t in threads:
        t.start()
    prober.start()
    for t in threads:
        t.join(120)
    prober.stop()
    slowest = max(dt for _, dt, _ in out)
    got408 = sum(1 for _, _, got in out if got.startswith(b"HTTP/1.1 408"))
    figure("slowloris: %d header and %d body dribblers, timeouts %d ms: closed after at most "
           "%.1f s, %d answered 408" % (n_each, n_each, SLOW_MS, slowest, got408))
    figure("  good client /healthz during it: " + prober.summary())
    expect(len(out) == 2 * n_each and slowest <= SLOW_MS / 1000.0 + 5,
           "every slowloris connection closed within %.1f s" % (SLOW_MS / 1000.0 + 5))
    expect(got408 == 2 * n_each, "slow headers and slow bodies got 408 (%d)" % got408)
    expect(prober.lat and prober.failures == 0 and max(prober.lat) <= HEALTHZ_BOUND_S,
           "a good client was served during slowloris (%s)" % prober.summary())


# --- 4. TLS suites, /metrics, lifetime -----------------------------------------------------------
def tls12_handshake(w, port, ciphers):
    ctx = h.tls_context(w)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), 10),
                            server_hostname="localhost")
        name = s.cipher()[0]
        s.close()
        return name
    except (ssl.SSLError, OSError):
        return None


def tls_suites(w, col):
    good = tls12_handshake(w, col.port, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305")
    expect(good is not None, "TLS 1.2 with ECDHE and AEAD is accepted (%s)" % good)
    for weak in ("ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA"):
        got = tls12_handshake(w, col.port, weak)
        expect(got is None, "TLS 1.2 with the CBC suite %s is refused%s" % (
            weak, "" if got is None else " (negotiated %s)" % got))


def metrics_listener(w, col):
    c = http.client.HTTPSConnection("localhost", col.port, timeout=10, context=h.tls_context(w))
    c.request("GET", "/metrics")
    st = c.getresponse().status
    c.close()
    expect(st == 404, "GET /metrics on the TLS port is 404 (%d)" % st)
    st, text = col.metrics()
    expect(col.metrics_port and st == 200 and "aimeter_connections_open" in text,
           "GET /metrics is answered on the metrics listener")
    return text


def lifetime(w, col):
    """One keep-alive connection kept busy past [limits] connection_lifetime_ms."""
    c = http.client.HTTPSConnection("localhost", col.port, timeout=10, context=h.tls_context(w),
                                    source_address=(GOOD_SRC, 0))
    t0 = time.time()
    ended = None
    while time.time() - t0 < LIFETIME_MS / 1000.0 + 10:
        try:
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            if r.getheader("Connection", "").lower() == "close":
                ended = time.time() - t0
                break
        except (OSError, http.client.HTTPException):
            ended = time.time() - t0
            break
        time.sleep(0.3)
    c.close()
    expect(ended is not None and ended <= LIFETIME_MS / 1000.0 + 3,
           "a busy connection ends after its lifetime (%s s)" %
           ("%.1f" % ended if ended is not None else "never"))


def metric(text, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def main():
    w = h.setup("hostile_net")
    extra = {("limits", "header_timeout_ms"): str(SLOW_MS),
             ("limits", "body_timeout_ms"): str(SLOW_MS)}
    if not MEASURE:
        # Short enough for a quick test. --measure keeps the defaults (and runs collectors
        # that do not know these keys) so figures compare as deployed.
        extra[("limits", "write_stall_timeout_ms")] = str(STALL_MS)
        extra[("limits", "connection_lifetime_ms")] = str(LIFETIME_MS)
    env = {}
    if not MEASURE:
        # ASan's quarantine holds freed memory back on purpose; keep it small so RSS measures
        # what the collector holds, not what the sanitizer parks.
        env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"
    col = h.Collector(w, extra=extra, env=env, plain=True)
    figure("collector %s (%s)" % (h.COLLECTOR, "metrics listener" if h.METRICS_LISTENER
                                  else "no metrics listener: an older collector"))
    figure("settings: %s" % ", ".join("%s.%s=%s" % (k[0], k[1], v) for k, v in sorted(extra.items())))
    st, dt = good_healthz(w, col.port)
    if st != 200:
        h.fail("the good client from %s cannot reach the collector (%s)" % (GOOD_SRC, st))

    pipelining_attack(w, col, 4)
    idle_flood(w, col, 2000)
    time.sleep(SLOW_MS / 1000.0 + 1)  # the idle flood's leftovers time out
    slowloris(w, col)
    if h.METRICS_LISTENER:
        tls_suites(w, col)
        text = metrics_listener(w, col)
        refused = metric(text, "aimeter_connections_refused_per_address_total")
        stalls = metric(text, "aimeter_connection_write_stalls_total")
        expect(refused is not None and refused >= 2000 - 128,
               "connections over the per-address cap are counted (%s)" % refused)
        expect(stalls is not None and stalls >= 4, "write stalls are counted (%s)" % stalls)
        plain_exempt(col)
        if not MEASURE:
            lifetime(w, col)
    else:
        figure("(TLS suites, metrics listener and lifetime checks need the new collector)")
    _, hwm = proc_status(col.proc.pid)
    figure("collector VmHWM at the end: %.0f MiB" % hwm)
    col.stop()
    if MEASURE:
        print("measure: %d of %d expectations met" % (sum(ok for _, ok in results), len(results)))


main()
