#!/usr/bin/env python3
"""A collector that stops answering, then is overwhelmed. Four agents ship generated logs
that arrive over time. The collector is stopped with SIGSTOP for a minute (connections are
accepted by the kernel and then hang: TLS handshakes and requests in flight never finish) while
the logs keep arriving, then continued. Its queue of pending batches is capped low
([database] max_pending_batches = 1), so when every agent catches up at once the collector
sheds load with 429 and Retry-After instead of queueing without bound. The agents back off,
catch up, and the database equals the truth."""
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

AGENTS = 4
GROUPS = 8
STOP_AT = 3
STOP_SECONDS = 60

c = h.Cluster("stall")
agents = []
try:
    c.start(extra="[database]\nmax_pending_batches = 1\n")
    want, moves = {}, []
    for i in range(AGENTS):
        logs, _ = h.generate(os.path.join(c.dir, "gen%d" % i), "--seed", str(300 + i),
                             "--sessions", "12")
        want = h.add_totals(want, h.truth_totals(logs))
        live = os.path.join(c.dir, "live%d" % i)
        files = sorted(os.path.relpath(os.path.join(d, n), logs)
                       for d, _, ns in os.walk(logs) for n in ns
                       if os.path.relpath(d, logs).startswith(("claude", "codex")))
        moves.append([(os.path.join(logs, f), os.path.join(live, f)) for f in files])
        for tool in ("claude", "codex"):
            os.makedirs(os.path.join(live, tool), exist_ok=True)
        agents.append(h.Agent(c, live, name="agent%d" % i, extra="[ship]\nbatch_events = 30\n"))
    want = h.merge_generated(want, AGENTS)
    total = sum(v[0] for v in want.values())
    for a in agents:
        a.start()

    def release(step):
        for m in moves:
            per = (len(m) + GROUPS - 1) // GROUPS
            for src, dst in m[step * per:(step + 1) * per]:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(src, dst)

    for step in range(GROUPS):
        if step == STOP_AT:
            before = int(h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events"))
            c.proc.send_signal(signal.SIGSTOP)
            h.log("collector stopped (SIGSTOP) with %d of %d events stored" % (before, total))
        release(step)
        time.sleep(STOP_SECONDS / (GROUPS - STOP_AT) if step >= STOP_AT else 1)
    during = int(h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events"))
    if during != before:
        h.fail("events arrived while the collector was stopped: %d, then %d" % (before, during))
    c.proc.send_signal(signal.SIGCONT)
    h.log("collector continued after %d s; all logs have arrived" % STOP_SECONDS)
    h.wait_totals(c, want, timeout=300)
    got = int(h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events"))
    if got != total:
        h.fail("usage_events has %d rows, the truth %d events" % (got, total))
    shed = sum(a.log().count("HTTP 429") for a in agents)
    waits = sum(a.log().count("could not send a batch") for a in agents)
    if shed == 0:
        h.fail("the collector never shed load with 429 while the agents caught up")
    for a in agents:
        if a.proc.poll() is not None:
            h.fail("agent %s exited:\n%s" % (a.dir, a.log()[-3000:]))
        a.stop()
    h.log("exact after the stall: %d events from %d agents; agents logged %d failed sends "
          "and %d answers of 429 (logging is rate-limited)" % (total, AGENTS, waits, shed))
    print("ok")
finally:
    for a in agents:
        a.kill()
    if c.proc is not None and c.proc.poll() is None:
        c.proc.send_signal(signal.SIGCONT)
    c.close()
