#!/usr/bin/env python3
"""Generated logs arrive in usage_daily exactly, through a real agent and a
real collector over TLS; SIGTERM stops the agent cleanly and status agrees."""
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import harness as h  # noqa: E402

c = h.Cluster("exact")
try:
    c.start()
    logs, info = h.generate(c.dir)
    want = h.truth_totals(logs)
    log_events = sum(v[0] for v in want.values())
    h.log("generated %d events in %d bytes" % (log_events, info["bytes"]))
    a = h.Agent(c, logs)
    a.start()
    h.wait_totals(c, want, agent=a)
    # SIGHUP reloads the configuration; the agent keeps running and idle.
    import signal
    import time
    a.proc.send_signal(signal.SIGHUP)
    time.sleep(1.5)
    if a.proc.poll() is not None or "configuration reloaded" not in a.log():
        h.fail("SIGHUP did not reload:\n" + a.log()[-2000:])
    a.stop()
    st = a.status()
    if st.get("spooled events") != "0":
        h.fail("status after delivery: %s" % st)
    h.log("exact: %d rows, %d events; status: shipped %s, last error: %s"
          % (len(want), log_events, st.get("shipped events"), st.get("last error")))
    # `scan` labels projects with the key enrollment stored: the same labels.
    import json
    import subprocess
    r = subprocess.run([h.AGENT, "scan", "-c", a.conf, "--format", "jsonl"], env=a.env,
                       capture_output=True, text=True, check=True)
    local = {e["project"] for e in map(json.loads, filter(str.strip, r.stdout.splitlines()))
             if e["record"] == "usage"}
    sent = set(h.psql(c.db, "SELECT DISTINCT project FROM aimeter.usage_events").splitlines())
    if not local or local != sent:
        h.fail("scan's project labels differ from the ones sent: %s vs %s"
               % (sorted(local)[:3], sorted(sent)[:3]))
    h.log("scan uses the enrolled project key: %d labels match" % len(local))
    # A restart reads nothing new and sends nothing new.
    a.start()
    time.sleep(3)
    a.stop()
    if c.totals() != want:
        h.fail("totals changed after a restart")
finally:
    c.close()
print("ok")
