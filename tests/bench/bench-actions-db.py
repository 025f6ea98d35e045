#!/usr/bin/env python3
"""bench-actions-db.py: what the action rollups cost in the write transaction.

aimeter.ingest_actions() stores a transaction's action records and adds
them to actions_daily and action_edit_sessions in the same call
(docs/actions.md, "Rollups"). This bench sends 1,000-action batches as the
collector does (one JSON parameter, one transaction each: a person's calls
of about two days, 200 people in 10 teams, a month) and measures, in the
same run on fresh batches of the same shape:
  1. the wall time of ingest_actions per batch (psql \\timing);
  2. the share of its statements' time spent in the rollup statements,
     from auto_explain of the nested statements (analyze on: its overhead
     is in both parts alike).
Prints figures only; never asserts timings.
usage: bench-actions-db.py [--toy]   (needs the PostgreSQL of tests/run)
"""
import hashlib
import importlib.util
import json
import os
import random
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "h", os.path.join(here, "..", "integration", "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

toy = "--toy" in sys.argv
BATCHES = 4 if toy else 60
ACTIONS = 1000
PEOPLE, TEAMS = 200, 10
KINDS = [("edit", 40), ("write", 10), ("shell", 25), ("commit", 6), ("pull_request", 2),
         ("subagent", 6), ("skill", 3), ("mcp", 5), ("web", 2), ("other", 1)]
ROLLUP = re.compile(r"(INSERT INTO|DELETE FROM) aimeter\.(actions_daily|action_edit_sessions)")


def batch(R, b, start_ms):
    """Batch b: ACTIONS calls of one person over about two days."""
    person = b % PEOPLE
    u = hashlib.sha256(b"bench-person-%d" % person).hexdigest()
    t0 = start_ms + (b * 86400000 * 2) % (28 * 86400000)
    rows = []
    for i in range(ACTIONS):
        kind = R.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        dec = R.choices(["accepted", "rejected", "error", "unknown"], [80, 8, 8, 4])[0]
        la = R.randint(1, 60) if kind in ("edit", "write") and dec == "accepted" else 0
        rows.append({"id": hashlib.sha256(b"a-%d-%d" % (b, i)).hexdigest()[:32],
                     "ms": t0 + i * 170000, "tool": "claude-code" if person % 3 else "codex",
                     "s": "s-%d-%d" % (b, i // 80), "p": "p:%016x" % (person % 7), "u": u,
                     "t": "team%d" % (person % TEAMS), "d": None, "k": kind, "c": dec,
                     "n": {"edit": "Edit", "write": "Write"}.get(kind, "Bash"),
                     "g": "Explore" if kind == "subagent" else "", "x": "py",
                     "la": la, "lr": la // 3, "pa": la, "pr": la // 3,
                     "cm": int(kind == "commit" and dec == "accepted"),
                     "pq": int(kind == "pull_request" and dec == "accepted"), "sa": False})
    return json.dumps(rows)


def script(w, name, first, setup):
    R = random.Random(first)
    start_ms = int(h.psql(w, "SELECT (extract(epoch FROM date_trunc('month', now())"
                             " - interval '1 month') * 1000)::bigint"))
    path = w.p(name + ".sql")
    with open(path, "w") as f:
        f.write(setup)
        for b in range(first, first + BATCHES):
            f.write("SELECT aimeter.ingest_actions($j$%s$j$::jsonb);\n" % batch(R, b, start_ms))
    return path


def run(w, path):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", path],
                       env=h.pg_env(w), capture_output=True, text=True)
    if r.returncode != 0:
        h.fail("psql %s: %s" % (path, r.stderr[-2000:]))
    return r


w = h.Workdir("bench_actions")
h.make_db(w)
h.psql(w, "INSERT INTO aimeter.teams (name) SELECT 'team' || g FROM generate_series(0, %d) g"
       % (TEAMS - 1))

# 1. Wall time per batch.
out = run(w, script(w, "plain", 0, "\\timing on\n")).stdout
ms = [float(x) for x in re.findall(r"^Time: ([\d.]+) ms", out, re.M)]
# 2. The same shape, fresh ids: time per nested statement.
explain = ("LOAD 'auto_explain';\nSET auto_explain.log_min_duration = 0;\n"
           "SET auto_explain.log_analyze = on;\nSET auto_explain.log_nested_statements = on;\n"
           # ingest_actions sets client_min_messages = warning: log above it.
           "SET auto_explain.log_level = warning;\n")
err = run(w, script(w, "explain", 100000, explain)).stderr
total = rollup = 0.0
for m in re.finditer(r"duration: ([\d.]+) ms  plan:\nQuery Text: (.*)", err):
    d, q = float(m.group(1)), m.group(2)
    if q.startswith("SELECT aimeter.ingest_actions"):
        total += d
    elif ROLLUP.search(q):
        rollup += d
rows = h.psql(w, "SELECT count(*) FROM aimeter.actions_daily")
h.psql(w, "DROP DATABASE IF EXISTS %s" % w.dbname, db="postgres")

ms.sort()
print("ingest_actions, %d batches of %d actions: median %.1f ms, mean %.1f ms per batch"
      " (%.0f actions/s); actions_daily rows %s"
      % (len(ms), ACTIONS, ms[len(ms) // 2], sum(ms) / len(ms),
         ACTIONS * len(ms) / (sum(ms) / 1000), rows))
share = rollup / total if total else 0.0
print("rollup statements (actions_daily, action_edit_sessions): %.1f%% of ingest_actions"
      " time under auto_explain (%.1f of %.1f ms): about %.1f ms per 1,000-action batch"
      % (100 * share, rollup, total, share * sum(ms) / len(ms)))
print("ok - done")
