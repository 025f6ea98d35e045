"""test-collector-harness.py: shared pieces of the collector's integration tests.

Loaded by the test-collector-*.py drivers through importlib. Everything is real:
the PostgreSQL that tests/run started (PG* variables), certificates made here
with the openssl CLI, the aimeter-collector binary over TLS, and batches made
by test-collector-tool (protobuf + zstd), whose events are a pure function of
(seed, batch, index) so a test knows the truth independently.
"""
import atexit
import hashlib
import http.client
import os
import re
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

COLLECTOR = os.environ["AM_COLLECTOR"]
CTL = os.environ["AM_CTL"]
TOOL = os.environ["AM_TOOL"]
SECRET = "test-enrollment-secret-0123456789"
_running = []


def _has_metrics_listener():
    """Collectors since issue 11 serve /metrics on [listen] metrics; older ones on the main port."""
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")  # older builds leak on --help
    try:
        out = subprocess.run([COLLECTOR, "--help"], capture_output=True, text=True, timeout=10,
                             env=env).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "listen.metrics" in out


METRICS_LISTENER = _has_metrics_listener()


@atexit.register
def _kill_leftovers():
    """A failed check exits at once: never leave a collector behind."""
    for p in _running:
        if p.poll() is None:
            p.kill()
            p.wait()


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok - " + msg)


def need_server():
    for v in ("PGHOST", "PGPORT", "PGUSER"):
        if not os.environ.get(v):
            fail("%s is not set: run through tests/run (a skipped integration test is a failure)" % v)


class Workdir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="am-coll-%s-" % name)
        self.dbname = "am_coll_" + re.sub(r"[^a-z0-9]", "_", name)

    def p(self, *parts):
        return os.path.join(self.path, *parts)


def pg_env(w, extra=None):
    env = dict(os.environ)
    env["PGDATABASE"] = w.dbname
    env["PGOPTIONS"] = "-c synchronous_commit=local"  # test sessions never wait for a standby
    if extra:
        env.update(extra)
    return env


def psql(w, sql, db=None, check_rc=True):
    env = pg_env(w)
    if db:
        env["PGDATABASE"] = db
    r = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       env=env, capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        fail("psql %r: %s" % (sql, r.stderr))
    return r.stdout.strip()


def make_db(w):
    psql(w, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % w.dbname, db="postgres")
    psql(w, "CREATE DATABASE %s" % w.dbname, db="postgres")
    r = subprocess.run([CTL, "migrate"], env=pg_env(w), capture_output=True, text=True)
    if r.returncode != 0:
        fail("aimeterctl migrate: " + r.stderr)


def openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        fail("openssl %s: %s" % (" ".join(args), r.stderr))


def make_ca(w, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".pem", "-subj", "/CN=" + name,
            "-days", "2", cwd=w.path)


def make_server_cert(w, ca, name):
    with open(w.p("san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=localhost", cwd=w.path)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", "san.ext",
            cwd=w.path)
    os.chmod(w.p(name + ".key"), 0o600)


def setup(name):
    """A fresh database, certificates and secrets for one test program."""
    need_server()
    w = Workdir(name)
    make_db(w)
    make_ca(w, "ca")
    make_ca(w, "otherca")
    make_server_cert(w, "ca", "server")
    with open(w.p("person.key"), "wb") as f:
        # Hex text: a raw key ending in a newline byte would be trimmed to 31.
        f.write(os.urandom(32).hex().encode())
    os.chmod(w.p("person.key"), 0o600)
    with open(w.p("secret"), "w") as f:
        f.write(SECRET + "\n")
    os.chmod(w.p("secret"), 0o600)
    return w


class Collector:
    def __init__(self, w, name="c1", extra=None, env=None, port=0, plain=False):
        self.w = w
        self.log_path = w.p(name + ".log")
        conf = {
            ("database", "conninfo"): "dbname=" + w.dbname,
            ("listen", "tls"): "127.0.0.1:%d" % port,
            ("tls", "cert_file"): w.p("server.pem"),
            ("tls", "key_file"): w.p("server.key"),
            ("identity", "person_key_file"): w.p("person.key"),
            ("enrollment", "secret_file"): w.p("secret"),
            ("database", "device_cache_ms"): "0",
        }
        if plain:
            conf[("listen", "plain")] = "127.0.0.1:0"
        if METRICS_LISTENER:
            # A port of its own per collector: tests and helpers run side by side.
            conf[("listen", "metrics")] = "127.0.0.1:0"
        for k, v in (extra or {}).items():
            conf[k] = v
        self.conf_path = w.p(name + ".conf")
        sections = {}
        for (s, k), v in conf.items():
            sections.setdefault(s, []).append("%s = %s" % (k, v))
        with open(self.conf_path, "w") as f:
            for s, lines in sections.items():
                f.write("[%s]\n%s\n" % (s, "\n".join(lines)))
        e = pg_env(w)
        e.pop("PGOPTIONS", None)
        e.update(env or {})
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen([COLLECTOR, "-c", self.conf_path], stderr=self.logf,
                                     stdout=self.logf, env=e)
        _running.append(self.proc)
        self.port = self.plain_port = self.metrics_port = None
        want_metrics = METRICS_LISTENER and conf.get(("listen", "metrics"), "off") != "off"
        deadline = time.time() + 20
        while time.time() < deadline:
            text = self.log()
            m = re.search(r"listening on 127\.0\.0\.1:(\d+) \(tls\)", text)
            if m:
                self.port = int(m.group(1))
            m = re.search(r"listening on 127\.0\.0\.1:(\d+) \(plain\)", text)
            if m:
                self.plain_port = int(m.group(1))
            m = re.search(r"listening on 127\.0\.0\.1:(\d+) \(metrics\)", text)
            if m:
                self.metrics_port = int(m.group(1))
            if (self.port and "database ready" in text and (self.plain_port or not plain)
                    and (self.metrics_port or not want_metrics)):
                # The collector registers its [enrollment] secret_file in the database.
                wait_for(lambda: psql(w, "SELECT count(*) FROM aimeter.enrollment_secrets "
                                         "WHERE secret_hash = sha256('%s'::bytea)" % SECRET) == "1",
                         "the collector to register its enrollment secret")
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        fail("collector did not start:\n" + self.log())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def metrics(self):
        """GET /metrics: on the metrics listener, or the TLS port of a collector without one."""
        if self.metrics_port:
            c = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=30)
        else:
            c = http.client.HTTPSConnection("localhost", self.port, timeout=30,
                                            context=tls_context(self.w))
        try:
            c.request("GET", "/metrics")
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30, already_signalled=False):
        if self.proc.poll() is None and not already_signalled:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("collector did not exit within %d s of SIGTERM" % timeout)
        self.logf.close()
        if rc != 0:
            fail("collector exited %d:\n%s" % (rc, self.log()))
        if "ERROR: AddressSanitizer" in self.log() or "runtime error" in self.log():
            fail("sanitizer report:\n" + self.log())
        return rc


def tls_context(w, ca="ca"):
    ctx = ssl.create_default_context(cafile=w.p(ca + ".pem"))
    return ctx


class Client:
    """One keep-alive HTTPS connection (reconnects when the server closes it)."""

    def __init__(self, w, port, ca="ca", timeout=60):
        self.w, self.port, self.ca, self.timeout = w, port, ca, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("localhost", self.port, timeout=self.timeout,
                                                        context=tls_context(self.w, self.ca))
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, dict(r.getheaders()), data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle: once more.
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def post_batch(self, body, token, ctype="application/x-protobuf", encoding="zstd"):
        h = {"Content-Type": ctype, "Authorization": "Bearer " + token}
        if encoding:
            h["Content-Encoding"] = encoding
        return self.request("POST", "/v1/batches", body, h)

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def tool(*args):
    r = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        fail("test-collector-tool %s: %s" % (" ".join(map(str, args)), r.stderr))
    return r.stdout


def mkbatches(w, name, count, events, seed, schema=None):
    d = w.p(name)
    args = ["mkbatches", d, count, events, seed] + ([schema] if schema is not None else [])
    out = tool(*args)
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".bin"))
    m = re.match(r"events=(\d+) output_tokens=(\d+)", out)
    return [open(f, "rb").read() for f in files], int(m.group(1)), int(m.group(2))


def parse_ack(w, data):
    path = w.p("ack.bin")
    with open(path, "wb") as f:
        f.write(data)
    out = tool("ack", path)
    m = re.match(r"accepted=(\d+) duplicates=(\d+) rejected=(\d+)", out)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def enroll(w, client, hostname="host"):
    path = w.p("er.bin")
    tool("enroll-req", path, SECRET, hostname)
    st, _, data = client.request("POST", "/v1/enroll", open(path, "rb").read(),
                                 {"Content-Type": "application/x-protobuf"})
    if st != 200:
        fail("enroll: %d %r" % (st, data))
    with open(w.p("resp.bin"), "wb") as f:
        f.write(data)
    out = tool("enroll-resp", w.p("resp.bin"))
    m = re.match(r"device_id=(\S+) token=(\S+) key_len=(\d+)", out)
    return m.group(1), m.group(2), int(m.group(3))


def totals(w):
    out = psql(w, "SELECT count(*), coalesce(sum(output_tokens), 0) FROM aimeter.usage_events")
    n, s = out.split("|")
    return int(n), int(s)


def rollup_total(w):
    return int(psql(w, "SELECT coalesce(sum(events), 0) FROM aimeter.usage_daily"))


def snapshot(w, exclude=("ingest_batches",)):
    """A digest of every table in schema aimeter but the excluded ones."""
    tables = psql(w, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE n.nspname = 'aimeter' AND c.relkind IN ('r', 'p') "
                     "AND NOT c.relispartition ORDER BY 1").split()
    out = {}
    for t in tables:
        if t in exclude:
            continue
        out[t] = psql(w, "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') "
                         "FROM aimeter.%s x" % t)
    return out


def pg_ctl(*args):
    cmd = [os.path.join(os.environ["AM_PGBIN"], "pg_ctl"), "-D", os.environ["AM_PGDATA"]] + list(args)
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail("pg_ctl %s: %s %s" % (" ".join(args), r.stdout, r.stderr))


def pg_stop():
    pg_ctl("-m", "fast", "-w", "stop")


def pg_start():
    """Start with the options tests/run gave (kept in postmaster.opts)."""
    opts = open(os.path.join(os.environ["AM_PGDATA"], "postmaster.opts")).read()
    argv = shlex.split(opts)[1:]
    keep, i = [], 0
    while i < len(argv):
        if argv[i] == "-D":
            i += 2
            continue
        keep.append(argv[i])
        i += 1
    logfile = os.path.join(os.path.dirname(os.environ["AM_PGDATA"]), "server.log")
    pg_ctl("-w", "-l", logfile, "-o", shlex.join(keep), "start")


def wait_for(pred, what, timeout=30, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(step)
    fail("timed out waiting for " + what)


def raw_request(port, data, use_tls=False, w=None, ca="ca", read_timeout=10, until_close=False):
    """Bytes on a fresh connection; returns what the server sent before closing or timeout."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    if use_tls:
        s = tls_context(w, ca).wrap_socket(s, server_hostname="localhost")
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and not until_close:
                head, _, rest = out.partition(b"\r\n\r\n")
                m = re.search(rb"Content-Length: (\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
    except socket.timeout:
        pass
    s.close()
    return out


def status_of(resp):
    m = re.match(rb"HTTP/1\.1 (\d+)", resp)
    return int(m.group(1)) if m else None
