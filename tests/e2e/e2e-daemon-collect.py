#!/usr/bin/env python3
"""The daemon (`aimeter-agent run`) and `aimeter-agent collect` (one pass per
change, its state in a directory) over the same changing files of every tool
of harness.ALL_TOOLS: appends, torn last lines completed later, whole-file
rewrites (Amp threads, Gemini sessions; Gemini's legacy documents through
their versions, torn ones included), SQLite inserts and updates (OpenCode,
Cursor; the writer stays open, Cursor's with a transaction open between
changes), deletions (a file deleted, then written again), daemon restarts between changes (the other changes land
while it runs). At the end both hold the events of one `scan --format jsonl`
of the final files: the same event ids and the same sums per tool, model and
UTC day; and the database, what the daemon sent, equals it too.

After every change the database must hold exactly the events collect has
printed so far: the two share the engine, so they settle the same responses.
While files change nothing settles by quiet time (a day); the last collect
settles with 0 s and the last daemon run with 1 s.

collect may print an id again: a copy of an event older than its seen
window (seen.h: 60 days before the newest event handed out) read again, which
the generated years of logs have. Such a repeat must carry the same counts.
"""
import os
import time
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

SEED = 1414
STAGES = 8
DAY = 86400

a = None
c = h.Cluster("daemon-collect")
try:
    c.start()
    st = h.Staging(c.dir, STAGES, SEED, deletions=6)
    a = h.Agent(c, None, roots=st.roots, settle=DAY, extra="[ship]\nbatch_events = 200\n")
    col_state = os.path.join(c.dir, "collect-state")
    printed, repeats = {}, 0
    for i in range(STAGES):
        last = i == STAGES - 1
        if i % 2 == 1 or last:
            # a restart between changes; the last one settles what is still open
            a.stop()
            st.apply(i, in_place=True)
            if last:
                a.configure(settle=1)
            a.start()
        else:
            if a.proc is None:
                a.start()
            st.apply(i)
        out, _ = a.cli("collect", "--state-dir", col_state, "--settle", "0" if last else str(DAY))
        for e in h.parse_jsonl(out):
            if e["event_id"] in printed:
                repeats += 1
                if h.jsonl_event(printed[e["event_id"]]) != h.jsonl_event(e):
                    h.fail("collect printed %s twice, differently:\n  %s\n  %s"
                           % (e["event_id"], printed[e["event_id"]], e))
            printed[e["event_id"]] = e
        want = {k: h.jsonl_event(e) for k, e in printed.items()}
        got = {}
        for _ in range(240):
            got = c.events()
            if got == want or (a.proc.poll() is not None):
                break
            time.sleep(0.25)
        if got != want:
            diff = [k for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)]
            h.fail("stage %d: the daemon's %d events differ from collect's %d in %d:\n  %s\n"
                   "agent log tail:\n%s"
                   % (i, len(got), len(want), len(diff), "\n  ".join(
                       "%s: daemon %s, collect %s" % (k, got.get(k), want.get(k))
                       for k in diff[:10]), a.log()[-3000:]))
        h.log("stage %d: daemon and collect agree on %d events" % (i, len(got)))
    a.stop()
    scanned = h.parse_jsonl(a.cli("scan", "--format", "jsonl")[0])
    want = {e["event_id"]: h.jsonl_event(e) for e in scanned}
    got = {k: h.jsonl_event(e) for k, e in printed.items()}
    if got != want:
        diff = [k for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)]
        h.fail("collect over the changes differs from one scan of the final files in %d "
               "events:\n  %s" % (len(diff), "\n  ".join(
                   "%s: collect %s, scan %s" % (k, got.get(k), want.get(k)) for k in diff[:10])))
    if c.events() != want:
        h.fail("the database differs from one scan of the final files")
    d = h.diff_totals(h.jsonl_totals(scanned), c.totals())
    if d:
        h.fail("daily totals differ from the scan's:\n  " + "\n  ".join(d[:20]))
    tools = sorted({e["tool"] for e in scanned})
    h.log("%d events of %s: collect over %d changes, the daemon and one scan agree per event "
          "and per tool, model and UTC day; collect repeated %d old ids with the same counts"
          % (len(want), ", ".join(tools), STAGES, repeats))
finally:
    if a is not None:
        a.kill()  # after a failure: no daemon left behind
    c.close()
print("ok")
