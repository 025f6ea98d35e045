#!/usr/bin/env python3
"""bench-request-ids.py: what matching calls by request id costs the write transaction.

Since issue 15 (point 4) a transaction whose events carry request ids (schema-3 agents, the
OTLP receiver) goes through aimeter.ingest_requests() instead of aimeter.ingest_rows()
(docs/otlp.md, "One call, counted once"). This bench stages 1,000-event batches exactly as
the collector does (COPY am_stage_batch, am_stage, am_stage_request; aimeter.ingest_staged();
COMMIT) and times ingest_staged per batch, in alternating rounds on fresh events of the same
shape: without request ids (the baseline), with them (new calls), OTLP copies of calls stored
already (dropped), and transcript records of calls counted from OTLP (each replaces one).
Prints figures only; never asserts timings.
usage: bench-request-ids.py [--toy]   (needs the PostgreSQL of tests/run)
"""
import datetime
import hashlib
import importlib.util
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "h", os.path.join(here, "..", "integration", "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

toy = "--toy" in sys.argv
ROUNDS = 2 if toy else 10
EVENTS = 1000
CREATE = ("CREATE TEMP TABLE IF NOT EXISTS am_stage_batch (LIKE aimeter.stage_batch_template) "
          "ON COMMIT DELETE ROWS; CREATE TEMP TABLE IF NOT EXISTS am_stage "
          "(LIKE aimeter.stage_event_template) ON COMMIT DELETE ROWS; CREATE TEMP TABLE IF NOT "
          "EXISTS am_stage_request (batch_idx int NOT NULL, ord int NOT NULL, request_id text "
          "NOT NULL) ON COMMIT DELETE ROWS;\n")
T0 = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0) \
    - datetime.timedelta(days=2)


def hexid(*parts):
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:32]


def batch_sql(b, calls, otel, with_ids):
    """One transaction: calls (numbers) as agent records, or as OTLP copies."""
    src = "otel" if otel else "agent"
    # The OTLP receiver's batches have neither device nor batch id; agents' have one.
    out = ["BEGIN;\n", "COPY am_stage_batch (batch_idx, device_id, batch_id, events_sent, "
           "spool_dropped) FROM STDIN;\n",
           "0\t\\N\t%s\t%d\t0\n\\.\n" % ("\\N" if otel else "\\\\x" + hexid("b", src, b),
                                         len(calls)),
           "COPY am_stage (batch_idx, ord, event_id, ts, tool, model, session, project, "
           "identity_hmac, team_hint, billing_mode, input_tokens, output_tokens, "
           "cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, reasoning_tokens, "
           "web_search_requests, speed, service_tier, reject_reason) FROM STDIN;\n"]
    for i, n in enumerate(calls):
        ts = T0 + datetime.timedelta(seconds=n % 10**7)  # the series differ by 10^7
        person = "\\\\x" + hashlib.sha256(b"person-%d" % (n % 50)).hexdigest()
        split = "%d\t0" % (230 + n % 7) if otel else "%d\t%d" % (200 + n % 7, 30)
        out.append("0\t%d\t\\\\x%s\t%s\tclaude-code\tclaude-sonnet-4-5\ts-%d\tp:0\t%s\tteam%d\t"
                   "api\t%d\t%d\t%s\t%d\t0\t0\t\t\t\\N\n"
                   % (i, hexid(src, n), ts.strftime("%Y-%m-%d %H:%M:%S+00"), n // 100, person,
                      n % 5, 1000 + n % 100, 40 + n % 10, split, 3000 + n % 50))
    out.append("\\.\n")
    if with_ids:
        out.append("COPY am_stage_request (batch_idx, ord, request_id) FROM STDIN;\n")
        out += ["0\t%d\treq_bench_%08d\n" % (i, n) for i, n in enumerate(calls)]
        out.append("\\.\n")
    out.append("SELECT sum(inserted), sum(duplicates) FROM aimeter.ingest_staged()"
               " HAVING sum(rejected) = 0;\nCOMMIT;\n")
    return "".join(out)


def timed(w, name, sql):
    path = w.p(name + ".sql")
    with open(path, "w") as f:
        f.write("\\timing on\n" + CREATE + sql)
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", path],
                       env=h.pg_env(w), capture_output=True, text=True)
    if r.returncode != 0:
        h.fail("psql %s: %s" % (name, r.stderr[-2000:]))
    # \timing prints one line per statement: the ingest_staged SELECT follows its result row
    lines = r.stdout.splitlines()
    sel = [i for i, l in enumerate(lines) if re.fullmatch(r"\d+\|\d+", l)]
    if not sel:
        h.fail("%s: some events were rejected:\n%s" % (name, r.stdout[-500:]))
    return float(re.match(r"Time: ([\d.]+)", lines[sel[0] + 1]).group(1)), lines[sel[0]]


w = h.Workdir("bench_request_ids")
h.make_db(w)
h.psql(w, "INSERT INTO aimeter.teams (name) SELECT 'team' || g FROM generate_series(0, 4) g")
res = {k: [] for k in ("plain", "ids", "otel-copy", "replaces")}
n0 = 0
for r in range(ROUNDS):
    base = n0
    calls = list(range(base, base + EVENTS))
    t, c = timed(w, "plain%d" % r, batch_sql(r, [x + 10**7 for x in calls], False, False))
    res["plain"].append(t)
    t, c = timed(w, "ids%d" % r, batch_sql(r, calls, False, True))
    res["ids"].append(t)
    t, c = timed(w, "otel%d" % r, batch_sql(r, calls, True, True))
    res["otel-copy"].append(t)
    if c != "0|%d" % EVENTS:
        h.fail("OTLP copies of stored calls: %s (want 0|%d)" % (c, EVENTS))
    # calls counted from OTLP first, then their transcript records
    later = [x + 2 * 10**7 for x in calls]
    timed(w, "otelfirst%d" % r, batch_sql(r, later, True, True))
    t, c = timed(w, "replaces%d" % r, batch_sql(r + 1000, later, False, True))
    res["replaces"].append(t)
    if c != "%d|0" % EVENTS:
        h.fail("transcript records replacing OTLP copies: %s" % c)
    n0 += EVENTS
stored = h.psql(w, "SELECT count(*) FROM aimeter.usage_events")
h.check(int(stored) == 3 * EVENTS * ROUNDS, "each call stored once (%s events)" % stored)
h.psql(w, "DROP DATABASE IF EXISTS %s" % w.dbname, db="postgres")
med = {k: sorted(v)[len(v) // 2] for k, v in res.items()}
for k in ("plain", "ids", "otel-copy", "replaces"):
    print("ingest_staged, %d rounds of %d events, %-9s median %.1f ms per batch (%.2fx plain)"
          % (ROUNDS, EVENTS, k + ":", med[k], med[k] / med["plain"]))
print("ok - done")
