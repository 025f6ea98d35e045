#!/usr/bin/env python3
"""kill -9 of the daemon (`aimeter-agent run`) in every phase with every tool of
harness.ALL_TOOLS configured at once, its files growing (torn last lines
completed later; Amp threads and Gemini sessions rewritten whole, Gemini's
legacy documents through the versions the tool wrote, torn ones included;
OpenCode's and Cursor's SQLite databases by inserts and updates from a writer
that stays open) between the kills; then a clean run: the database equals the generators' truth per tool,
model and UTC day, nothing lost and nothing twice.

The phases come from the agent's test hooks (AIMETER_TEST_KILL, tests/run
builds with -Dtest_hooks=true), each killed at a fixed hit: after reading and
before spooling ("read"), half a DATA record written ("write-data": events and
the readers' state delta torn), a record written but not fsynced
("spool-fsync"), half a SNAPSHOT written ("write-snapshot": the readers' whole
state torn, at a segment rotation), the request body sent ("upload"), a 2xx
received before the spool is told ("acked": the collector has committed) and
half the META that records the acknowledgement ("write-meta"). A kill while
the readers walk the files has no hook (they write nothing); it is covered by
kills at seeded random delays after a start (SEED), which land wherever the
daemon is.

While files change the daemon settles nothing by quiet time (settle_seconds
is a day): a file cut between two lines of one response would otherwise be
final with part of its counts, which is the design (a tool writes a response
within the settle time), not a crash. The last run settles with one second.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

with open(os.path.join(h.BUILD, "am_config.h")) as f:
    if "AM_TEST_HOOKS 1" not in f.read():
        print("e2e: this build has no test hooks (meson -Dtest_hooks=true)")
        sys.exit(77)

SEED = 1313
# (phase, hit); ("random", n): kill -9 at a seeded random delay. Later hits of a
# phase land with data of earlier stages already spooled or sent.
PLAN = [("read", 1), ("write-data", 1), ("random", 1), ("spool-fsync", 2), ("upload", 1),
        ("acked", 1), ("write-snapshot", 1), ("write-meta", 1), ("random", 2),
        ("write-data", 1), ("upload", 2), ("acked", 2), ("write-snapshot", 1), ("random", 3)]
HOOKED = {p for p, _ in PLAN if p != "random"}
DAY = 86400

rnd = random.Random(SEED)
a = None
c = h.Cluster("crash-alltools")
try:
    c.start()
    st = h.Staging(c.dir, len(PLAN) + 1, SEED)
    want = st.truth
    # Small spool segments (max_bytes / 8, at least 64 KiB) so that segments
    # rotate, and with them the whole state is saved, several times.
    a = h.Agent(c, None, roots=st.roots, settle=DAY,
                extra="[ship]\nbatch_events = 40\n[spool]\nmax_bytes = 512K\n")
    mark = os.path.join(c.dir, "phases")
    hit, missed = [], []
    for i, (phase, n) in enumerate(PLAN):
        st.apply(i, in_place=True)  # the daemon is down: a rewrite may be done in place
        if phase == "random":
            p = a.start()
            time.sleep(rnd.uniform(0.05, 1.5))
            rc = p.poll()
            if rc is not None:
                h.fail("agent exited %s on its own; log:\n%s" % (rc, a.log()[-3000:]))
            a.kill()
            hit.append("random")
            h.log("stage %d: killed -9 at random" % i)
            continue
        got = a.start_killed_at(phase, n, mark, 20)
        if got is None:
            missed.append("%s:%d" % (phase, n))
            h.log("stage %d: phase %s:%d not reached; stopped with SIGTERM" % (i, phase, n))
        else:
            hit.append(got)
            h.log("stage %d: killed -9 at phase %s (hit %d)" % (i, got, n))
    st.apply(len(PLAN))
    a.configure(settle=1)
    a.start()
    try:
        h.wait_totals(c, want, agent=a, timeout=60)
    finally:
        # Which events differ from one scan of the final files, if any.
        scanned = {e["event_id"]: h.jsonl_event(e)
                   for e in h.parse_jsonl(a.cli("scan", "--format", "jsonl")[0])}
        stored = c.events()
        for i in sorted(set(stored) | set(scanned)):
            if stored.get(i) != scanned.get(i):
                h.log("event %s: stored %s, scanned %s" % (i, stored.get(i), scanned.get(i)))
    a.stop()
    if stored != scanned:
        h.fail("the database's events differ from those of one scan of the final files")
    status = a.status()
    if not status.get("dropped events", "").startswith("0 "):
        h.fail("the spool dropped events: %s" % status.get("dropped events"))
    missing = HOOKED - set(hit)
    h.log("phases hit: %s; not reached: %s" % (", ".join(sorted(set(hit))),
                                               ", ".join(missed) or "none"))
    if missing:
        h.fail("phases never hit: %s" % ", ".join(sorted(missing)))
    dup = h.psql(c.db, "SELECT coalesce(sum(duplicates), 0) FROM aimeter.ingest_batches")
    tools = sorted({k[0] for k in want})
    h.log("%d events of %s exact per tool, model and UTC day after %d kills -9; "
          "duplicates the collector dropped: %s"
          % (sum(r[0] for r in want.values()), ", ".join(tools), len(hit), dup))
finally:
    if a is not None:
        a.kill()  # after a failure: no daemon left behind
    c.close()
print("ok")
