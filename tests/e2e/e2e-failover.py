#!/usr/bin/env python3
"""Database failover under load. The test starts its own PostgreSQL primary and a
synchronous streaming standby (pg_basebackup -R). The collector's conninfo names both
hosts with target_session_attrs=read-write. Eight agents, each with its own generated
logs arriving over time, ship through it. Midway the primary is stopped immediately
(no shutdown checkpoint, connections cut, COMMITs in flight unanswered) and the standby
is promoted, at a moment when a COMMIT is on the wire and unanswered (the collector's test
hook holds each COMMIT's answer for a while, so one is likely unread when the primary goes;
whether its answer was already in the socket is up to timing, so the count is reported, not
asserted): such a batch's outcome is unknown to the collector, which answers 503 so that the
agent retries. The database on the new primary must equal
the union of the generators' truths: nothing an agent was told was stored is lost, nothing is
counted twice."""
import os
import re
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
import pgpair  # noqa: E402

with open(os.path.join(h.BUILD, "am_config.h")) as f:
    if "AM_TEST_HOOKS 1" not in f.read():
        print("e2e: this build has no test hooks (meson -Dtest_hooks=true)")
        sys.exit(77)

AGENTS = 8
PAUSE_MS = 1000  # how long the collector holds each COMMIT's answer
GROUPS = 10      # each agent's log files arrive in this many steps, one a second
FAIL_AT = 4      # the primary goes away after this many steps

pair = pgpair.Pair(h.free_port(), h.free_port())
c = None
agents = []
try:
    pair.start()
    h.log("primary on port %d, synchronous standby on %d"
          % (pair.primary.port, pair.standby.port))
    # harness.Cluster makes its database where PG* point: on the primary.
    os.environ.update(PGHOST=pair.primary.sock, PGPORT=str(pair.primary.port),
                      PGUSER="postgres", PGDATABASE="postgres")
    c = h.Cluster("failover")
    c.start(conninfo=pair.multihost(c.db), env={"AIMETER_TEST_COMMIT_PAUSE_MS": str(PAUSE_MS)})

    def check(server, want):
        """aimeterctl check on server: its replication line contains want (None: no line)."""
        r = h.subprocess.run([h.CTL, "check", "--db", server.conninfo(c.db)],
                             capture_output=True, text=True)
        lines = [x for x in r.stdout.splitlines() if x.startswith("replication:")]
        if r.returncode != 0 or len(lines) != (want is not None) or (
                want is not None and want not in lines[0]):
            h.fail("aimeterctl check on the %s: exit %d, %r %s"
                   % (server.name, r.returncode, r.stdout, r.stderr))
        h.log("aimeterctl check on the %s: %s" % (server.name, lines[0] if lines else
                                                   "no replication line"))

    check(pair.primary, 'standby "standby" streaming (sync), replay lag ')
    check(pair.standby, "this server is a standby")

    want = {}
    moves = []
    for i in range(AGENTS):
        logs, _ = h.generate(os.path.join(c.dir, "gen%d" % i), "--seed", str(100 + i),
                             "--sessions", "12")
        want = h.add_totals(want, h.truth_totals(logs))
        live = os.path.join(c.dir, "live%d" % i)
        files = sorted(os.path.relpath(os.path.join(d, n), logs)
                       for d, _, ns in os.walk(logs) for n in ns
                       if os.path.relpath(d, logs).startswith(("claude", "codex")))
        moves.append([(os.path.join(logs, f), os.path.join(live, f)) for f in files])
        for tool in ("claude", "codex"):
            os.makedirs(os.path.join(live, tool), exist_ok=True)
        agents.append(h.Agent(c, live, name="agent%d" % i,
                              extra="[ship]\nbatch_events = 40\n"))
    want = h.merge_generated(want, AGENTS)
    total = sum(v[0] for v in want.values())
    h.log("%d agents, %d events in the truth" % (AGENTS, total))
    for a in agents:
        a.start()

    def held():
        """From the collector's log: connections whose COMMIT was sent, answer held."""
        out = set()
        with open(c.log_path, errors="replace") as f:
            for line in f:
                m = re.search(r"COMMIT sent on database connection (\d+)", line)
                if m:
                    out.add(m[1])
                m = re.search(r"(resuming|lost) database connection (\d+)", line)
                if m:
                    out.discard(m[2])
        return out

    def wait_commit_in_flight():
        """Until a COMMIT has just been sent: its answer is held for PAUSE_MS."""
        with open(c.log_path, errors="replace") as f:
            seen = f.read().count("COMMIT sent on")
        end = time.time() + 120
        while time.time() < end:
            with open(c.log_path, errors="replace") as f:
                if f.read().count("COMMIT sent on") > seen and held():
                    return
            time.sleep(0.05)
        h.fail("no COMMIT was sent within 120 s:\n" + open(c.log_path).read()[-3000:])

    def release(step):
        for m in moves:
            per = (len(m) + GROUPS - 1) // GROUPS
            for src, dst in m[step * per:(step + 1) * per]:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(src, dst)

    for step in range(GROUPS):
        release(step)
        time.sleep(1)
        if step == FAIL_AT:
            stored = h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events")
            wait_commit_in_flight()
            pair.primary.stop("immediate")
            h.log("primary stopped (immediate) with a COMMIT unanswered, %s events stored before"
                  % stored)
            time.sleep(2)  # agents meet a collector without a database meanwhile
            pair.standby.promote()
            os.environ["PGPORT"] = str(pair.standby.port)
            h.log("standby promoted; the logs keep arriving")
    h.wait_totals(c, want, timeout=300)
    check(pair.standby, None)  # promoted, standalone: nothing to say
    got = int(h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events"))
    if got != total:
        h.fail("usage_events has %d rows, the truth %d events" % (got, total))
    answered_503 = sum(a.log().count("HTTP 503") for a in agents)
    with open(c.log_path, errors="replace") as f:
        clog = f.read()
    unknown = clog.count("with a COMMIT unanswered")
    for a in agents:  # stored is not yet acknowledged: a retry's ack may still be coming
        end = time.time() + 120
        while a.status().get("spooled events", "0") not in ("0", "") and time.time() < end:
            time.sleep(0.5)
        st = a.status()
        if st.get("spooled events", "0") not in ("0", ""):
            h.fail("%s still has spooled events: %s" % (a.dir, st))
        a.stop()
    got = int(h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events"))
    if got != total or h.diff_totals(want, c.totals()):
        h.fail("after the spools drained: %d rows for %d events" % (got, total))
    lost = clog.count("lost database connection")
    h.log("new primary equals the truth: %d events from %d agents; the collector lost %d "
          "database connections, %d with a COMMIT unanswered; agents logged %d answers of 503 "
          "and retried" % (total, AGENTS, lost, unknown, answered_503))
    if lost == 0:
        h.fail("the collector never saw the primary go away:\n" + clog[-3000:])
    print("ok")
finally:
    for a in agents:
        a.kill()
    if c is not None:
        c.close()
    pair.close()
