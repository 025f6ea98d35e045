#!/usr/bin/env python3
"""realtools_otlp.py: the real Claude Code's own OpenTelemetry, through the collector, equals the bill.

The pinned Claude Code (realtools.py installs it) runs headless against the loopback Messages
API stand-in (standin.py) with CLAUDE_CODE_ENABLE_TELEMETRY=1 and its OTLP exporters pointed at
a real aimeter-collector over TLS (the test CA through NODE_EXTRA_CA_CERTS, an
`aimeterctl otlp-token` in OTEL_EXPORTER_OTLP_HEADERS), once with http/json and once with
http/protobuf. Then the database's usage (calls, input, output, cache read, cache write tokens
per model) must equal what the stand-in billed, each Bash round trip must be one accepted shell
action (claude_code.tool_result), and none of the prompt or reply text may be in
the database or the collector's log. Then the real aimeter-agent reads the transcripts of the
same runs and ships them (issue 15, point 4): every call now arrives twice, by request id, and
the database must still equal the bill, each call counted once, with the transcripts' 5m/1h
cache split. Failures to install or run are failures, never skips.
Needs the PostgreSQL of tests/run and AM_COLLECTOR, AM_CTL, AM_TOOL, AM_AGENT (meson sets them).
"""
import collections
import hashlib
import hmac
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import realtools  # noqa: E402  (install_tools, run, base_env)
import standin  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(HERE, "..", "integration", "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

MODELS = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"]
AGENT = os.environ.get("AM_AGENT", "")
USER = "rt-otlp@example.com"


def claude_env(home, port, endpoint, token, ca, protocol):
    env = realtools.base_env(home)
    env.update({
        "CLAUDE_CONFIG_DIR": os.path.join(home, ".claude"),
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:%d" % port,
        "ANTHROPIC_API_KEY": "sk-ant-amrt-dummy", "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1", "DISABLE_BUG_COMMAND": "1",
        "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
        # The customer's own export (not Anthropic's telemetry, which stays off).
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer " + token,
        "OTEL_LOGS_EXPORT_INTERVAL": "500", "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        # An API key has no Claude account: the identity comes from the resource, as the
        # Claude Code docs tell admins to do.
        "OTEL_RESOURCE_ATTRIBUTES": "user.email=" + USER,
        # Content logging on: the collector must drop it anyway.
        "OTEL_LOG_USER_PROMPTS": "1", "OTEL_LOG_TOOL_DETAILS": "1",
        "NODE_EXTRA_CA_CERTS": ca,
    })
    return env


def db_usage(w, tool="claude-code"):
    """Per model: calls, input, output, cache read and cache write tokens of tool in the database."""
    out = h.psql(w, "SELECT model, count(*), sum(input_tokens), sum(output_tokens), "
                    "sum(cache_read_tokens), sum(cache_write_5m_tokens + cache_write_1h_tokens) "
                    "FROM aimeter.usage_events WHERE tool = '%s' GROUP BY model" % tool)
    got = {}
    for line in filter(None, out.splitlines()):
        m, *n = line.split("|")
        got[m] = tuple(int(x) for x in n)
    return got


def db_actions(w, tool="claude-code"):
    return h.psql(w, "SELECT tool_name, kind, decision, count(*) FROM aimeter.action_events "
                     "WHERE tool = '%s' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" % tool)


def db_split(w):
    out = h.psql(w, "SELECT model, sum(cache_write_5m_tokens), sum(cache_write_1h_tokens) "
                    "FROM aimeter.usage_events WHERE tool = 'claude-code' GROUP BY model")
    return {m: (int(a), int(b)) for m, a, b in (l.split("|") for l in out.splitlines() if l)}


def billed_split(ledger):
    want = collections.defaultdict(lambda: [0, 0])
    for c in ledger.calls:
        want[c["model"]][0] += c["cache_write_5m"]
        want[c["model"]][1] += c["cache_write_1h"]
    return {m: tuple(v) for m, v in want.items()}


def transcript_requests(home):
    """The request ids of the billed calls the transcripts hold."""
    ids = set()
    for root, _, files in os.walk(os.path.join(home, ".claude", "projects")):
        for name in files:
            if name.endswith(".jsonl"):
                with open(os.path.join(root, name), errors="replace") as f:
                    for line in f:
                        if '"usage"' in line and '"requestId"' in line:
                            try:
                                rid = json.loads(line).get("requestId")
                            except ValueError:
                                continue
                            if rid:
                                ids.add(rid)
    return ids


def agent_reads(w, col, home, want):
    """The real agent ships the same transcripts: each call still counted once."""
    d = tempfile.mkdtemp(prefix="am-rt-agent-")
    conf = os.path.join(d, "agent.conf")
    with open(conf, "w") as f:
        f.write("[server]\nurl = https://localhost:%d\nenrollment_secret_file = %s\n"
                "ca_file = %s\n[sources]\nclaude_dirs = %s\n[agent]\nstate_dir = %s\n"
                "settle_seconds = 1\n[ship]\nbatch_age = 1\n[identity]\npolicy = fixed\n"
                "value = %s\n" % (col.port, w.p("secret"), w.p("ca.pem"),
                                   os.path.join(home, ".claude"), os.path.join(d, "state"), USER))
    env = dict(os.environ, HOME=d)
    for k in [k for k in env if k.startswith("AIMETER_")]:
        del env[k]
    rids = transcript_requests(home)
    h.check(len(rids) > 0, "the transcripts hold %d calls with request ids" % len(rids))
    log_path = os.path.join(d, "agent.log")
    p = subprocess.Popen([AGENT, "run", "-c", conf], env=env, stdout=open(log_path, "w"),
                         stderr=subprocess.STDOUT)
    try:
        seen = "SELECT count(*) FROM aimeter.usage_requests WHERE agent_seen IS NOT NULL"
        deadline = time.time() + 90
        while time.time() < deadline and int(h.psql(w, seen)) < len(rids):
            time.sleep(0.5)
        h.check(int(h.psql(w, seen)) == len(rids),
                "the agent shipped every transcript call with its request id (%s of %d)"
                % (h.psql(w, seen), len(rids)))
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(30)
    agent_log = open(log_path, errors="replace").read()
    got = db_usage(w)
    for m in sorted(set(want) | set(got)):
        realtools.log("%-30s billed %s, stored %s with the agent too" % (m, want.get(m), got.get(m)))
    h.check(got == want, "with the agent reading the same transcripts, the database's usage "
                         "still equals what the model server billed: nothing counted twice")
    split = db_split(w)
    h.check(split == billed_split(LEDGER[0]),
            "the transcripts' 5m/1h cache split replaced OTLP's (%s)" % split)
    both = h.psql(w, "SELECT coalesce(sum(events), 0) FROM reporting.usage_sources_monthly "
                     "WHERE source = 'both'")
    h.check(int(both) == len(rids), "report sources: %s calls from both the agent and OTLP" % both)
    out = subprocess.run([h.CTL, "report", "sources"], env=h.pg_env(w), capture_output=True,
                         text=True).stdout
    realtools.log("aimeterctl report sources:\n" + out)
    h.check(standin.SECRET_PROMPT not in agent_log and standin.SECRET_REPLY not in agent_log,
            "no prompt or reply in the agent's log")
    shutil.rmtree(d, ignore_errors=True)


LEDGER = []


def billed(ledger, tool=None):
    """The same figures from the stand-in's bills (of tool, or all)."""
    want = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    for c in ledger.calls:
        if tool is not None and c["tool"] != tool:
            continue
        t = want[c["model"]]
        for i, v in enumerate((1, c["input"], c["output"], c["cache_read"],
                               c["cache_write_5m"] + c["cache_write_1h"])):
            t[i] += v
    return {m: tuple(v) for m, v in want.items()}


def main():
    bindir = realtools.install_tools()
    claude = os.path.join(bindir, "claude")
    realtools.log("testing @anthropic-ai/claude-code@%s over OTLP"
                  % realtools.package_version(bindir, "@anthropic-ai/claude-code"))
    w = h.setup("rt_otlp")
    col = h.Collector(w)
    r = subprocess.run([h.CTL, "otlp-token", "create", "--name", "rt"], env=h.pg_env(w),
                       capture_output=True, text=True)
    if r.returncode != 0:
        h.fail("otlp-token create: " + r.stderr)
    token = r.stdout.strip()
    endpoint = "https://localhost:%d" % col.port
    ledger = standin.Ledger()
    LEDGER.append(ledger)
    srv, port = standin.serve(standin.AnthropicHandler, ledger)
    home = tempfile.mkdtemp(prefix="am-rt-otlp-")
    try:
        work = os.path.join(home, "project")
        os.makedirs(work)
        p = standin.SECRET_PROMPT
        for protocol, model in (("http/json", MODELS[0]), ("http/protobuf", MODELS[1])):
            env = claude_env(home, port, endpoint, token, w.p("ca.pem"), protocol)
            n = len(ledger.calls)
            realtools.run([claude, "-p", p + " say hi", "--output-format", "json", "--model",
                           model], env, work, "claude %s" % protocol)
            realtools.run([claude, "-p", p + " AMRT-TOOL run it", "--output-format", "json",
                           "--model", model, "--allowedTools", "Bash"], env, work,
                          "claude %s Bash round trip" % protocol)
            h.check(len(ledger.calls) > n, "%s: the stand-in billed %d calls"
                    % (protocol, len(ledger.calls) - n))
        want = billed(ledger)
        # Claude Code flushes its exporters on exit; allow the last commit to land.
        deadline = time.time() + 30
        while time.time() < deadline and db_usage(w) != want:
            time.sleep(0.5)
        got = db_usage(w)
        for m in sorted(set(want) | set(got)):
            realtools.log("%-30s billed %s, stored %s (calls, input, output, cache read, "
                          "cache write)" % (m, want.get(m), got.get(m)))
        h.check(got == want, "the database's usage equals what the model server billed, "
                             "over http/json and http/protobuf")
        # Its tool events: the one Bash call of each protocol's round trip, run and accepted.
        want_acts = "Bash|shell|accepted|2"
        deadline = time.time() + 30
        while time.time() < deadline and db_actions(w) != want_acts:
            time.sleep(0.5)
        h.check(db_actions(w) == want_acts, "claude_code.tool_result: one accepted shell action "
                                            "per Bash round trip (%s)" % db_actions(w))
        key = open(w.p("person.key"), "rb").read().strip()
        mac = hmac.new(key, USER.encode(), hashlib.sha256).hexdigest()
        keys = h.psql(w, "SELECT DISTINCT coalesce(encode(person_key, 'hex'), 'none') "
                         "FROM aimeter.usage_events WHERE tool = 'claude-code'")
        h.check(keys == mac, "every call carries the identity's HMAC (%s)" % keys[:16])
        dump = subprocess.run(["pg_dump", "--data-only"], env=h.pg_env(w), capture_output=True,
                              text=True).stdout
        leaked = [m for m in (standin.SECRET_PROMPT, standin.SECRET_REPLY, "AMRT-", USER, home)
                  if m in dump or m in col.log()]
        h.check(not leaked, "no prompt, reply, path or email in the database or log (%s)"
                % leaked)
        agent_reads(w, col, home, want)
        col.stop()
    finally:
        srv.shutdown()
        shutil.rmtree(home, ignore_errors=True)
    print("realtools-otlp: all checks passed")


if __name__ == "__main__":
    main()
