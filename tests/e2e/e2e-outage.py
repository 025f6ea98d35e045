#!/usr/bin/env python3
"""The collector stops while the agent keeps reading, then starts: the spool
drains and totals are exact. Then the spool cap: with a small cap and the
collector down, the oldest data is dropped, the drops are counted in status
and reported to the collector (ingest_batches.spool_dropped), and nothing
else is lost: delivered + dropped = generated."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402


def wait_spooled(a, n, timeout=120):
    end = time.time() + timeout
    st = {}
    while time.time() < end:
        st = a.status()
        spooled = int(st.get("spooled events", "0") or 0)
        dropped = int((st.get("dropped events", "0") or "0").split()[0])
        if spooled + dropped >= n:
            return st
        time.sleep(0.5)
    h.fail("the agent did not read everything while the collector was down: %s\n%s"
           % (st, a.log()[-2000:]))


def run(cap):
    c = h.Cluster("outage" if cap is None else "cap")
    try:
        c.start()
        logs, info = h.generate(c.dir)
        want = h.truth_totals(logs)
        total = sum(v[0] for v in want.values())
        staged = os.path.join(c.dir, "staged")
        os.rename(logs, staged)
        os.makedirs(os.path.join(logs, "claude"))
        os.makedirs(os.path.join(logs, "codex"))
        extra = "[ship]\nbatch_events = 100\n"
        if cap is not None:
            extra += "[spool]\nmax_bytes = %s\n" % cap
        a = h.Agent(c, logs, extra=extra)
        a.start()
        end = time.time() + 60
        while a.status().get("enrolled") != "yes":
            if time.time() > end:
                h.fail("agent did not enroll:\n" + a.log())
            time.sleep(0.2)
        c.stop()
        h.log("collector stopped; the logs arrive now")
        # In groups, as a working day would: several spool records.
        files = sorted(os.path.relpath(os.path.join(d, n), staged)
                       for d, _, ns in os.walk(staged) for n in ns
                       if os.path.relpath(d, staged).startswith(("claude", "codex")))
        for i in range(0, len(files), max(1, len(files) // 8)):
            for rel in files[i:i + max(1, len(files) // 8)]:
                dst = os.path.join(logs, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(os.path.join(staged, rel), dst)
            time.sleep(1.5)
        st = wait_spooled(a, total)
        h.log("while down: spooled %s, dropped %s, last error: %s"
              % (st.get("spooled events"), st.get("dropped events"), st.get("last error")))
        time.sleep(2)
        c.start()
        h.log("collector started again")
        if cap is None:
            h.wait_totals(c, want, agent=a)
            a.stop()
            h.log("outage: spool drained, totals exact (%d events)" % total)
            return
        dropped = int(st["dropped events"].split()[0])
        if dropped == 0:
            h.fail("the cap of %s dropped nothing: %s" % (cap, st))
        end = time.time() + 120
        while time.time() < end:
            got = int(h.psql(c.db, "SELECT coalesce(sum(events), 0) FROM aimeter.usage_daily"))
            reported = int(h.psql(c.db, "SELECT coalesce(sum(spool_dropped), 0) "
                                        "FROM aimeter.ingest_batches"))
            if got + dropped == total and reported == dropped:
                break
            time.sleep(0.5)
        else:
            h.fail("delivered %d + dropped %d != %d generated, or reported %d"
                   % (got, dropped, total, reported))
        a.stop()
        st = a.status()
        if "not yet reported: 0" not in st.get("dropped events", ""):
            h.fail("drops still unreported after delivery: %s" % st)
        # Every delivered row is within the truth: nothing was altered.
        for k, v in c.totals().items():
            if k not in want or any(x > y for x, y in zip(v, want[k])):
                h.fail("row %s exceeds the truth: %s vs %s" % (k, v, want.get(k)))
        h.log("cap %s: %d dropped and reported, %d delivered, %d generated"
              % (cap, dropped, got, total))
    finally:
        c.close()


run(None)
run("128K")
print("ok")
