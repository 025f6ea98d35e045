"""harness.py: end-to-end plumbing for tests/e2e: a real PostgreSQL database (the
server of tests/run), a real aimeter-collector over TLS with certificates made
here, a real aimeter-agent over generated logs, and an optional recording TLS
proxy between them that keeps every decompressed request body.

Environment (set by meson): AM_BUILD_ROOT, AM_SOURCE_ROOT; from tests/run:
PGHOST PGPORT PGUSER PGDATABASE. Without a server a test exits 77 (skipped),
which tests/run counts as a failure.
"""
import hashlib
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("AM_BUILD_ROOT", "build")
SOURCE = os.environ.get("AM_SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
AGENT = os.path.join(BUILD, "agent", "aimeter-agent")
COLLECTOR = os.path.join(BUILD, "collector", "aimeter-collector")
CTL = os.path.join(BUILD, "collector", "aimeterctl")
GEN = os.path.join(SOURCE, "tests", "gen", "gen-logs")
SECRET = "e2e-enrollment-secret-0123456789"
BUCKETS = ["input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "reasoning",
           "web_search"]
COLUMNS = ["input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
           "cache_read_tokens", "reasoning_tokens", "web_search_requests"]


def log(*a):
    print("e2e:", *a, flush=True)


def fail(msg):
    print("e2e: FAIL:", msg, flush=True)
    sys.exit(1)


def need_pg():
    if not os.environ.get("PGHOST"):
        print("e2e: no PostgreSQL (PGHOST unset): run through tests/run")
        sys.exit(77)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=30, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            fail("process exited early with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    fail("nothing listens on port %d" % port)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def make_certs(d, cn="127.0.0.1", name="ca"):
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    ca_key, ca_crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    key, csr, crt = (os.path.join(d, "server.key"), os.path.join(d, "server.csr"),
                     os.path.join(d, "server.crt"))
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=aimeter e2e CA"])
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=" + cn])
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
         "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext])
    os.chmod(key, 0o600)
    return ca_crt, crt, key


def pin_of(crt):
    """sha256//<base64> of the certificate's public key, as curl wants it."""
    pub = run(["openssl", "x509", "-in", crt, "-pubkey", "-noout"]).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub.encode(),
                         check=True, capture_output=True).stdout
    import base64
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def psql(db, sql):
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db,
                        "-c", sql], capture_output=True, text=True)
    if r.returncode != 0:
        fail("psql: %s" % r.stderr.strip())
    return r.stdout.strip()


class Cluster:
    """One database, its collector, certificates and secrets, under one tmp dir."""

    def __init__(self, name):
        need_pg()
        self.dir = tempfile.mkdtemp(prefix="aimeter-e2e-%s." % name)
        self.db = "e2e_%s_%d" % (name.replace("-", "_"), os.getpid())
        psql(os.environ.get("PGDATABASE", "postgres"), "DROP DATABASE IF EXISTS %s" % self.db)
        psql(os.environ.get("PGDATABASE", "postgres"), "CREATE DATABASE %s" % self.db)
        self.conninfo = "dbname=%s" % self.db
        r = subprocess.run([CTL, "migrate", "--db", self.conninfo], capture_output=True, text=True)
        if r.returncode != 0:
            fail("aimeterctl migrate: %s%s" % (r.stdout, r.stderr))
        psql(self.db, "INSERT INTO aimeter.enrollment_secrets (secret_hash, label) "
                      "VALUES (sha256('%s'::bytea), 'e2e')" % SECRET)
        self.ca, self.crt, self.key = make_certs(self.dir)
        self.secret_file = os.path.join(self.dir, "enroll.secret")
        with open(self.secret_file, "w") as f:
            f.write(SECRET + "\n")
        os.chmod(self.secret_file, 0o600)
        self.person_key = os.path.join(self.dir, "person.key")
        with open(self.person_key, "w") as f:
            f.write(os.urandom(32).hex())
        os.chmod(self.person_key, 0o600)
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.proc = None
        self.log_path = os.path.join(self.dir, "collector.log")

    def start(self):
        conf = os.path.join(self.dir, "collector.conf")
        with open(conf, "w") as f:
            f.write("[database]\nconninfo = host=%s port=%s dbname=%s\ndevice_cache_ms = 0\n"
                    "[listen]\ntls = 127.0.0.1:%d\nmetrics = off\n[tls]\ncert_file = %s\nkey_file = %s\n"
                    "[identity]\nperson_key_file = %s\n[enrollment]\nsecret_file = %s\n"
                    % (os.environ["PGHOST"], os.environ.get("PGPORT", "5432"), self.db,
                       self.port, self.crt, self.key, self.person_key, self.secret_file))
        self.proc = subprocess.Popen([COLLECTOR, "-c", conf], stdout=open(self.log_path, "a"),
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, proc=self.proc)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def totals(self):
        out = psql(self.db, "SELECT tool, day, model, sum(events), %s FROM aimeter.usage_daily "
                            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
                   % ", ".join("sum(%s)" % c for c in COLUMNS))
        rows = {}
        for line in out.splitlines():
            p = line.split("|")
            rows[(p[0], p[1], p[2])] = [int(p[3])] + [int(x) for x in p[4:]]
        return rows

    def close(self, keep=False):
        self.stop()
        psql(os.environ.get("PGDATABASE", "postgres"), "DROP DATABASE IF EXISTS %s" % self.db)
        if not keep and os.environ.get("AM_E2E_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)


def truth_totals(logs):
    with open(os.path.join(logs, "truth.json")) as f:
        t = json.load(f)
    rows = {}
    for r in t["rows"]:
        rows[(r["tool"], r["day"], r["model"])] = [r["events"]] + [r[b] for b in BUCKETS]
    return rows


def generate(d, *args):
    logs = os.path.join(d, "logs")
    r = run([sys.executable, GEN, logs] + list(args))
    info = json.loads(r.stdout.strip().splitlines()[-1])
    return logs, info


def diff_totals(want, got):
    lines = []
    for k in sorted(set(want) | set(got)):
        if want.get(k) != got.get(k):
            lines.append("%s: want %s got %s" % (k, want.get(k), got.get(k)))
    return lines


class Agent:
    def __init__(self, cluster, logs, name="agent", url=None, ca=None, pin=None, extra=None,
                 env=None):
        self.cluster = cluster
        self.dir = os.path.join(cluster.dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "state")
        self.conf = os.path.join(self.dir, "agent.conf")
        with open(self.conf, "w") as f:
            f.write("[server]\nurl = %s\nenrollment_secret_file = %s\n"
                    % (url or cluster.url, cluster.secret_file))
            if ca is not False:
                f.write("ca_file = %s\n" % (ca or cluster.ca))
            if pin:
                f.write("pin = %s\n" % pin)
            f.write("[sources]\nclaude_dirs = %s\ncodex_dirs = %s\n"
                    % (os.path.join(logs, "claude"), os.path.join(logs, "codex")))
            f.write("[agent]\nstate_dir = %s\nsettle_seconds = 1\n" % self.state)
            f.write("[ship]\nbatch_age = 1\n")
            f.write("[identity]\nteam_hint = e2e\n")
            if extra:
                f.write(extra)
        self.env = dict(os.environ)
        self.env["HOME"] = self.dir
        self.env["AIMETER_BACKOFF_BASE_MS"] = "200"
        for k in list(self.env):
            if k.startswith("AIMETER_") and k != "AIMETER_BACKOFF_BASE_MS":
                del self.env[k]
        if env:
            self.env.update(env)
        self.log_path = os.path.join(self.dir, "agent.log")
        self.proc = None

    def start(self, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        self.proc = subprocess.Popen([AGENT, "run", "-c", self.conf], env=e,
                                     stdout=open(self.log_path, "a"), stderr=subprocess.STDOUT)
        return self.proc

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail("agent did not stop on SIGTERM")
            if rc != 0:
                fail("agent exited %d on SIGTERM; log:\n%s" % (rc, self.log()))
        self.proc = None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def status(self):
        r = subprocess.run([AGENT, "status", "-c", self.conf], env=self.env, capture_output=True,
                           text=True)
        out = {}
        for line in r.stdout.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out[k.strip()] = v.strip()
        return out


def wait_totals(cluster, want, timeout=120, agent=None):
    end = time.time() + timeout
    got = {}
    while time.time() < end:
        got = cluster.totals()
        if got == want:
            return got
        if agent is not None and agent.proc is not None and agent.proc.poll() is not None:
            break
        time.sleep(0.5)
    d = diff_totals(want, got)
    fail("totals differ (%d rows):\n  %s%s" % (len(d), "\n  ".join(d[:20]),
         "\nagent log tail:\n" + agent.log()[-3000:] if agent else ""))


class Recorder:
    """A TLS proxy in front of the collector that records every request body
    (zstd bodies decompressed) and can answer some batches itself."""

    def __init__(self, cluster, answer=None, answer_body=None):
        self.cluster = cluster
        self.bodies = []  # (path, status, decompressed body)
        self.answer = answer  # fn(batch_index) -> None or (status, body)
        self.answer_body = answer_body  # fn(decompressed body) -> None or (status, body)
        self.batches = 0
        self.lock = threading.Lock()
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                plain = body
                if self.headers.get("Content-Encoding", "") == "zstd":
                    plain = subprocess.run(["zstd", "-d", "-c", "-q"], input=body,
                                           capture_output=True).stdout
                canned = None
                with rec.lock:
                    if self.path == "/v1/batches":
                        idx = rec.batches
                        rec.batches += 1
                        canned = rec.answer(idx) if rec.answer else None
                        if canned is None and rec.answer_body:
                            canned = rec.answer_body(plain)
                if canned is not None:
                    status, rbody, hdrs = canned[0], canned[1], {}
                else:
                    ctx = ssl.create_default_context(cafile=rec.cluster.ca)
                    c = http.client.HTTPSConnection("127.0.0.1", rec.cluster.port, context=ctx,
                                                    timeout=60)
                    h = {k: v for k, v in self.headers.items()
                         if k.lower() in ("content-type", "content-encoding", "authorization")}
                    try:
                        c.request("POST", self.path, body=body, headers=h)
                        r = c.getresponse()
                        status, rbody = r.status, r.read()
                        hdrs = {k: v for k, v in r.getheaders() if k.lower() == "retry-after"}
                    except OSError:
                        status, rbody, hdrs = 503, b"collector unreachable", {"Retry-After": "1"}
                    c.close()
                with rec.lock:
                    rec.bodies.append((self.path, status, plain))
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(rbody)))
                self.end_headers()
                self.wfile.write(rbody)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cluster.crt, cluster.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
