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
    a.stop()
    st = a.status()
    if st.get("spooled events") != "0":
        h.fail("status after delivery: %s" % st)
    h.log("exact: %d rows, %d events; status: shipped %s, last error: %s"
          % (len(want), log_events, st.get("shipped events"), st.get("last error")))
    # A restart reads nothing new and sends nothing new.
    a.start()
    import time
    time.sleep(3)
    a.stop()
    if c.totals() != want:
        h.fail("totals changed after a restart")
finally:
    c.close()
print("ok")
