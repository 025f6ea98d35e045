#!/usr/bin/env python3
"""kill -9 of the agent in each phase (while reading, between the spool write
and its fsync, during an upload, after a 2xx but before the spool delete),
then a restart: totals exact. Reports which phases it hit. Needs the test
hooks (tests/run builds with -Dtest_hooks=true)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

with open(os.path.join(h.BUILD, "am_config.h")) as f:
    if "AM_TEST_HOOKS 1" not in f.read():
        print("e2e: this build has no test hooks (meson -Dtest_hooks=true)")
        sys.exit(77)

# (phase, hit number): later hits land with some data already spooled or sent.
PLAN = [("read", 1), ("spool-fsync", 3), ("upload", 1), ("acked", 1), ("spool-fsync", 2),
        ("upload", 2), ("acked", 2)]

c = h.Cluster("crash")
try:
    c.start()
    logs, info = h.generate(c.dir)
    want = h.truth_totals(logs)
    # Half the sessions first, the rest while the agent restarts, so every
    # phase meets new data.
    staged = os.path.join(c.dir, "staged")
    os.rename(logs, staged)
    os.makedirs(os.path.join(logs, "claude", "projects"))
    os.makedirs(os.path.join(logs, "codex", "sessions"))
    moves = []
    for d, _, files in os.walk(staged):
        for n in files:
            src = os.path.join(d, n)
            rel = os.path.relpath(src, staged)
            if rel.startswith(("claude", "codex")):
                moves.append((src, os.path.join(logs, rel)))
    moves.sort()
    chunk = (len(moves) + len(PLAN)) // (len(PLAN) + 1)

    def release(n):
        for src, dst in moves[:n]:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.rename(src, dst)
        del moves[:n]

    a = h.Agent(c, logs, extra="[ship]\nbatch_events = 50\n")
    mark = os.path.join(c.dir, "phases")
    hit = []
    for phase, n in PLAN:
        release(chunk)
        got = a.start_killed_at(phase, n, mark, 40)
        if got is None:
            h.log("phase %s:%d not reached; stopped with SIGTERM" % (phase, n))
        else:
            hit.append(got)
            h.log("killed -9 at phase %s (hit %d)" % (got, n))
    release(len(moves))
    a.start()
    h.wait_totals(c, want, agent=a)
    a.stop()
    phases = sorted(set(hit))
    h.log("phases hit: %s" % ", ".join(phases))
    missing = {"read", "spool-fsync", "upload", "acked"} - set(phases)
    if missing:
        h.fail("phases never hit: %s" % ", ".join(sorted(missing)))
    dup = h.psql(c.db, "SELECT coalesce(sum(duplicates), 0) FROM aimeter.ingest_batches")
    h.log("totals exact after %d kills; duplicates the database dropped: %s" % (len(hit), dup))
finally:
    c.close()
print("ok")
