"""harness.py: end-to-end plumbing for tests/e2e: a real PostgreSQL database (the
server of tests/run), a real aimeter-collector over TLS with certificates made
here, a real aimeter-agent over generated logs, and an optional recording TLS
proxy between them that keeps every decompressed request body.

Environment (set by meson): AM_BUILD_ROOT, AM_SOURCE_ROOT; from tests/run:
PGHOST PGPORT PGUSER PGDATABASE. Without a server a test exits 77 (skipped),
which tests/run counts as a failure.
"""
import hashlib
import importlib.machinery
import importlib.util
import http.client
import http.server
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
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
GEN_ACTIONS = os.path.join(SOURCE, "tests", "gen", "gen-actions")
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


def make_certs(d, cn="127.0.0.1", name="ca", days=2, backdate_days=0):
    """A CA and a server certificate for 127.0.0.1 signed by it, valid for days from
    backdate_days ago (made under faketime), so that a skewed client clock accepts it."""
    fake = ["faketime", "-f", "-%dd" % backdate_days] if backdate_days else []
    ca_key, ca_crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    key, csr, crt = (os.path.join(d, "server.key"), os.path.join(d, "server.csr"),
                     os.path.join(d, "server.crt"))
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    run(fake + ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", str(days),
                "-subj", "/CN=aimeter e2e CA"])
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=" + cn])
    run(fake + ["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
                "-CAcreateserial", "-out", crt, "-days", str(days), "-extfile", ext])
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

    def start(self, env=None, conninfo=None, extra=""):
        """env: extra environment, e.g. AIMETER_TEST_MAX_SCHEMA=1 (a collector from
        before action records: schema 2 refused with 409, acks without the field).
        conninfo: the collector's [database] conninfo (default: this database on PGHOST).
        extra: more configuration, appended (a section named again adds to it)."""
        conf = os.path.join(self.dir, "collector.conf")
        conninfo = conninfo or "host=%s port=%s dbname=%s" % (
            os.environ["PGHOST"], os.environ.get("PGPORT", "5432"), self.db)
        with open(conf, "w") as f:
            f.write("[database]\nconninfo = %s\ndevice_cache_ms = 0\n"
                    "[listen]\ntls = 127.0.0.1:%d\nmetrics = off\n[tls]\ncert_file = %s\nkey_file = %s\n"
                    "[identity]\nperson_key_file = %s\n[enrollment]\nsecret_file = %s\n"
                    % (conninfo, self.port, self.crt, self.key, self.person_key, self.secret_file))
            f.write(extra)
        self.proc = subprocess.Popen([COLLECTOR, "-c", conf], stdout=open(self.log_path, "a"),
                                     stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})))
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

    def events(self):
        """Every stored event: {event id (hex): (tool, UTC day, model, *COLUMNS)}."""
        out = psql(self.db, "SELECT encode(event_id, 'hex'), tool, "
                            "to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD'), model, %s "
                            "FROM aimeter.usage_events" % ", ".join(COLUMNS))
        return {p[0]: tuple(p[1:4]) + tuple(int(x) for x in p[4:])
                for p in (line.split("|") for line in out.splitlines())}


    def action_totals(self):
        """aimeter.action_events summed per (tool, UTC day, kind, decision), as ACTION_SUMS."""
        out = psql(self.db, "SELECT tool, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD'), kind, "
                            "decision, count(*), %s FROM aimeter.action_events "
                            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
                   % ", ".join("sum(%s)" % c for c in ACTION_SUMS_SQL))
        rows = {}
        for line in out.splitlines():
            p = line.split("|")
            rows[tuple(p[:4])] = [int(x) for x in p[4:]]
        return rows

    def close(self, keep=False):
        self.stop()
        if os.environ.get("AM_E2E_KEEP") == "1":  # for a look afterwards: nothing removed
            log("kept %s and database %s" % (self.dir, self.db))
            return
        psql(os.environ.get("PGDATABASE", "postgres"), "DROP DATABASE IF EXISTS %s" % self.db)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def truth_totals(logs):
    with open(os.path.join(logs, "truth.json")) as f:
        t = json.load(f)
    rows = {}
    for r in t["rows"]:
        rows[(r["tool"], r["day"], r["model"])] = [r["events"]] + [r[b] for b in BUCKETS]
    return rows


ACTION_SUMS = ["actions", "lines_added", "lines_removed", "proposed_lines_added",
               "proposed_lines_removed", "commits", "pull_requests", "in_subagent"]
ACTION_SUMS_SQL = ACTION_SUMS[1:-1] + ["in_subagent::int"]


def action_truth(logs):
    """gen-actions' truth.json as {(tool, day, kind, decision): ACTION_SUMS}."""
    with open(os.path.join(logs, "truth.json")) as f:
        t = json.load(f)
    return {(r["tool"], r["day"], r["kind"], r["decision"]): [r[k] for k in ACTION_SUMS]
            for r in t["rows"]}


def merge_generated(want, copies):
    """want: the truths of `copies` gen-logs runs added up. Every run writes its Codex rollout
    without a model at the same time with the same counts, whatever the seed, and a Codex event
    id comes from those, not the session: the copies are one event (as a rollout copied between
    machines would be). Returns want with that row counted once."""
    out = dict(want)
    for k in [k for k in out if k[0] == "codex" and k[2] == ""]:
        out[k] = [x // copies for x in out[k]]
    return out


def generate_actions(d, *args):
    """tests/gen/gen-actions into d/<name>: (the directory, its marker)."""
    run([sys.executable, GEN_ACTIONS, d] + list(args))
    with open(os.path.join(d, "truth.json")) as f:
        return d, json.load(f)["marker"]


def add_totals(x, y):
    """Two sets of totals (usage or actions) added key by key."""
    out = {k: list(v) for k, v in x.items()}
    for k, v in y.items():
        out[k] = [p + q for p, q in zip(out[k], v)] if k in out else list(v)
    return out


def wait_actions(cluster, want, timeout=120, agent=None):
    """wait_totals for cluster.action_totals()."""
    return wait_totals(cluster, want, timeout, agent, cluster.action_totals, "action totals")


def stage_cut(src, dst, frac):
    """Copies every file of src to dst cut after frac of its lines (a session in
    progress: calls whose results come later); stage_cut(src, dst, 1) completes them."""
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".jsonl"):
                continue
            with open(os.path.join(root, name), "rb") as f:
                lines = f.read().splitlines(keepends=True)
            out = os.path.join(dst, os.path.relpath(root, src), name)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            keep = b"".join(lines[:max(1, int(len(lines) * frac))])
            old = open(out, "rb").read() if os.path.exists(out) else b""
            if keep.startswith(old) and len(keep) > len(old):
                with open(out, "ab") as f:  # the tool appends
                    f.write(keep[len(old):])
            elif not os.path.exists(out):
                with open(out, "wb") as f:
                    f.write(keep)


def jsonl_totals(events):
    """Events as `scan --format jsonl` prints them, summed like Cluster.totals."""
    rows = {}
    for e in events:
        r = rows.setdefault((e["tool"], e["ts"][:10], e["model"]), [0] * (1 + len(COLUMNS)))
        r[0] += 1
        for i, c in enumerate(COLUMNS):
            r[1 + i] += e[c]
    return rows


def jsonl_event(e):
    """An event as `scan --format jsonl` prints it, in the form of Cluster.events."""
    return (e["tool"], e["ts"][:10], e["model"]) + tuple(e[c] for c in COLUMNS)

def parse_jsonl(out):
    """The usage events in `scan`/`collect` JSONL (action records are checked elsewhere)."""
    lines = (json.loads(line) for line in out.splitlines() if line.strip())
    return [e for e in lines if e.get("record", "usage") == "usage"]


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
                 env=None, roots=None, settle=1):
        self.cluster = cluster
        self.dir = os.path.join(cluster.dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "state")
        self.conf = os.path.join(self.dir, "agent.conf")
        self.url, self.ca, self.pin, self.extra = url or cluster.url, ca, pin, extra
        # [sources] <key>_dirs: {"claude": dir, "gemini": dir, ...}; by default gen-logs' two
        self.roots = roots or {"claude": os.path.join(logs, "claude"),
                               "codex": os.path.join(logs, "codex")}
        self.configure(settle)
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

    def configure(self, settle):
        """Writes the configuration; a running daemon takes it at its next start."""
        with open(self.conf, "w") as f:
            f.write("[server]\nurl = %s\nenrollment_secret_file = %s\n"
                    % (self.url, self.cluster.secret_file))
            if self.ca is not False:
                f.write("ca_file = %s\n" % (self.ca or self.cluster.ca))
            if self.pin:
                f.write("pin = %s\n" % self.pin)
            f.write("[sources]\n")
            for key, d in sorted(self.roots.items()):
                f.write("%s_dirs = %s\n" % (key, d))
            f.write("[agent]\nstate_dir = %s\nsettle_seconds = %d\n" % (self.state, settle))
            f.write("[ship]\nbatch_age = 1\n")
            f.write("[identity]\nteam_hint = e2e\n")
            if self.extra:
                f.write(self.extra)

    def cli(self, *args):
        """aimeter-agent ARGS -c <this configuration>: (stdout, stderr); fails unless 0."""
        r = subprocess.run([AGENT] + list(args) + ["-c", self.conf], env=self.env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail("aimeter-agent %s exited %d: %s" % (args[0], r.returncode, r.stderr[-2000:]))
        return r.stdout, r.stderr

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

    def start_killed_at(self, phase, n, mark, timeout):
        """Starts the daemon to kill itself at the n-th hit of a test hook phase
        (testhook.h). Returns the phase it was killed at, or None when the phase did not
        come within timeout seconds (then it is stopped cleanly)."""
        p = self.start(env={"AIMETER_TEST_KILL": "%s:%d" % (phase, n),
                            "AIMETER_TEST_KILL_MARK": mark})
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None
        self.proc = None
        if rc != -signal.SIGKILL:
            fail("agent exited %s instead of being killed at %s; log:\n%s"
                 % (rc, phase, self.log()[-3000:]))
        with open(mark) as f:
            return f.read().split()[-1]

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


def wait_totals(cluster, want, timeout=120, agent=None, fetch=None, what="totals"):
    end = time.time() + timeout
    got = {}
    while time.time() < end:
        got = (fetch or cluster.totals)()
        if got == want:
            return got
        if agent is not None and agent.proc is not None and agent.proc.poll() is not None:
            break
        time.sleep(0.5)
    d = diff_totals(want, got)
    fail("%s differ (%d rows):\n  %s%s" % (what, len(d), "\n  ".join(d[:20]),
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


# --- every tool at once, its files changing ---------------------------------------------------

def amp_prefix(doc, k):
    """An Amp thread document as it was with its first k messages (its ledger's events that
    point at them only)."""
    doc = dict(doc, messages=doc["messages"][:k])
    ids = {m.get("messageId") for m in doc["messages"]}
    if isinstance(doc.get("usageLedger"), dict):
        doc["usageLedger"] = dict(doc["usageLedger"], events=[
            e for e in doc["usageLedger"]["events"] if e.get("toMessageId") in ids])
    return doc


def replay_opencode(root, ops, conns):
    """OpenCode's writes (gen-opencode's ops.json) applied by the generator's own apply: each
    statement committed at once, the databases kept open in WAL mode as OpenCode does."""
    if "gen" not in conns:
        loader = importlib.machinery.SourceFileLoader(
            "gen_opencode", os.path.join(SOURCE, "tests", "gen", "gen-opencode"))
        conns["gen"] = importlib.util.module_from_spec(
            importlib.util.spec_from_loader("gen_opencode", loader))
        argv, sys.argv = sys.argv, ["gen-opencode", "/nonexistent"]  # it parses them on load
        try:
            loader.exec_module(conns["gen"])
        finally:
            sys.argv = argv
    conns["gen"].apply(root, ops, conns.setdefault("db", {}))


def replay_cursor(root, ops, conns):
    """Cursor's writes (gen-cursor's ops.json: [table, key, value] rows, "checkpoint" where a
    turn ends) into globalStorage/state.vscdb: one transaction per turn, left open between
    stages, as a live writer holds it."""
    db = conns.get("db")
    if db is None:
        path = os.path.join(root, "globalStorage", "state.vscdb")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        db = conns["db"] = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        for table in ("ItemTable", "cursorDiskKV"):
            db.execute("CREATE TABLE %s (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)" % table)
        db.commit()
    for op in ops:
        if op == "checkpoint":
            db.commit()
        else:
            value = op[2]["blob"].encode() if isinstance(op[2], dict) else op[2]
            db.execute("INSERT INTO %s (key, value) VALUES (?, ?)" % op[0], (op[1], value))


def close_all(conns):
    """Commits and closes every SQLite connection in conns (nested dicts)."""
    for c in list(conns.values()):
        if isinstance(c, dict):
            close_all(c)
        elif isinstance(c, sqlite3.Connection):
            c.commit()
            c.close()
    conns.clear()


class ToolGen:
    """A generator in tests/gen/ and what it writes: roots maps the agent's source key
    ([sources] <key>_dirs) to a directory under its output. rewrite: the tool writes its
    session files anew each time (a temporary file renamed over), not by appending.
    doc_prefix(doc, k): a JSON document rewritten whole as it was with k messages.
    replay(root, ops, conns): a database tool; its files are built from nothing by applying
    the generator's ops.json in order, a share per stage (conns: kept between calls)."""

    def __init__(self, gen, args, roots, rewrite=False, doc_prefix=None, replay=None):
        self.gen, self.args, self.roots = gen, args, roots
        self.rewrite, self.doc_prefix, self.replay = rewrite, doc_prefix, replay


# One row per tool (both e2e-crash-alltools and e2e-daemon-collect read this table).
ALL_TOOLS = [
    ToolGen("gen-logs", ["--sessions", "10"], {"claude": "claude", "codex": "codex"}),
    ToolGen("gen-gemini-cli", [], {"gemini": "gemini"}, rewrite=True),
    ToolGen("gen-qwen-code", [], {"qwen": "qwen"}),
    ToolGen("gen-copilot-cli", [], {"copilot": "copilot"}),
    ToolGen("gen-amp", [], {"amp": "amp"}, doc_prefix=amp_prefix),
    ToolGen("gen-opencode", [], {"opencode": "opencode"}, replay=replay_opencode),
    ToolGen("gen-cursor", [], {"cursor": "cursor"}, replay=replay_cursor),
]


class Staging:
    """Every tool's generated files reaching their final form over n stages: session files
    appear at a random stage and grow, cut at random bytes (torn last lines completed
    later); JSON documents with messages are rewritten whole with more of them, and those
    the generator lists in stages.json (Gemini's legacy sessions) go through the versions
    it lists, torn ones included; compressed files appear whole; databases grow by the
    generator's writes (ToolGen.replay); everything else is there from the start.
    deletions: that many session files, once complete, are deleted at one stage and written
    again at the next (a new inode, the same bytes). apply(i) makes the tree look as at
    stage i."""

    def __init__(self, d, n, seed, tools=ALL_TOOLS, deletions=0):
        self.n, self.rnd = n, random.Random(seed)
        self.roots, self.truth, self.files = {}, {}, {}  # files: path -> (stages, tool)
        self.now = {}  # path -> bytes as written last
        self.replays = []  # [tool, root, ops per stage, connections, stages applied]
        for t in tools:
            out = os.path.join(d, "gen", t.gen)
            run([sys.executable, os.path.join(SOURCE, "tests", "gen", t.gen), out] + t.args)
            for k, v in truth_totals(out).items():
                self.truth[k] = [a + b for a, b in zip(self.truth.get(k, [0] * 8), v)]
            versions = {}
            if os.path.exists(os.path.join(out, "stages.json")):
                with open(os.path.join(out, "stages.json")) as f:
                    versions = json.load(f)
            for key, sub in t.roots.items():
                src, dst = os.path.join(out, sub), os.path.join(d, "logs", t.gen, sub)
                self.roots[key] = dst
                os.makedirs(dst)
                if t.replay:
                    with open(os.path.join(out, "ops.json")) as f:
                        ops = json.load(f)
                    ends = sorted(self.rnd.randint(0, len(ops)) for _ in range(n - 1))
                    ends = [0] + ends + [len(ops)]
                    per_stage = [ops[ends[i]:ends[i + 1]] for i in range(n)]
                    self.replays.append([t, dst, per_stage, {}, 0])
                    continue
                for base, _, names in os.walk(src):
                    for name in sorted(names):
                        p = os.path.join(base, name)
                        with open(p, "rb") as f:
                            stages = self.plan(name, f.read(), t,
                                               versions.get(os.path.relpath(p, src), []))
                        self.files[os.path.join(dst, os.path.relpath(p, src))] = (stages, t)
        late = sorted(p for p, (st, _) in self.files.items() if st[0] is None and st[n - 3])
        for p in self.rnd.sample(late, min(deletions, len(late))):
            st = self.files[p][0]
            j = self.rnd.randint(st.index(next(c for c in st if c is not None)), n - 3)
            st[j:] = [st[-1], None] + [st[-1]] * (n - j - 2)

    def plan(self, name, data, tool, versions):
        n, rnd = self.n, self.rnd
        first = rnd.randint(0, n - 2)
        doc = None
        if name.endswith(".json"):
            try:
                doc = json.loads(data)
            except ValueError:
                pass
        if versions:
            picks = sorted(rnd.randint(0, len(versions) - 1) for _ in range(n - 1 - first))
            cuts = [None] * first + [versions[k].encode() for k in picks]
        elif name.endswith(".zst"):
            cuts = [None] * rnd.randint(0, n - 1)
        elif name.endswith(".jsonl"):
            ends = sorted(rnd.randint(0, len(data)) for _ in range(n - 1 - first))
            cuts = [None] * first + [data[:e] for e in ends]
        elif (tool.doc_prefix and isinstance(doc, dict)
              and isinstance(doc.get("messages"), list)):
            ks = sorted(rnd.randint(0, len(doc["messages"])) for _ in range(n - 1 - first))
            cuts = [None] * first + [json.dumps(tool.doc_prefix(doc, k), ensure_ascii=False)
                                     .encode() for k in ks]
        else:
            cuts = []
        return cuts + [data] * (n - len(cuts))

    def apply(self, i, in_place=False):
        """Stage i. A whole rewrite goes through a renamed temporary file unless in_place
        (truncate and write, which a running reader may see half done)."""
        for p, (st, tool) in sorted(self.files.items()):
            want, have = st[i], self.now.get(p)
            if want == have:
                continue
            if want is None:
                os.unlink(p)
            elif have is not None and want.startswith(have) and not tool.rewrite:
                with open(p, "ab") as f:
                    f.write(want[len(have):])
            elif have is not None and in_place:
                with open(p, "r+b") as f:
                    f.truncate(0)
                    f.write(want)
            else:
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p + ".new~", "wb") as f:
                    f.write(want)
                os.rename(p + ".new~", p)
            self.now[p] = want
        for r in self.replays:
            tool, root, per_stage, conns, done = r
            for ops in per_stage[done:i + 1]:
                tool.replay(root, ops, conns)
            r[4] = i + 1
            if i == self.n - 1:
                close_all(conns)  # the writer's last transaction committed, its WAL folded in
