#!/usr/bin/env python3
"""The collector answering 400 for one batch: that batch is quarantined (a
file and a log line), later batches flow. A 401 after the device's token is
revoked and the host allowed back: the data stays, the agent enrolls again,
totals are exact."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

# --- 400: one batch refused --------------------------------------------------
c = h.Cluster("reject")
rec = None
try:
    c.start()
    logs, info = h.generate(c.dir)
    want = h.truth_totals(logs)
    total = sum(v[0] for v in want.values())
    rec = h.Recorder(c, answer=lambda i: (400, b"schema check failed: bad event") if i == 1
                     else None)
    a = h.Agent(c, logs, url=rec.url, extra="[ship]\nbatch_events = 100\n")
    a.start()
    end = time.time() + 120
    while time.time() < end:
        st = a.status()
        q = st.get("quarantined batches", "0 (0 events)")
        got = int(h.psql(c.db, "SELECT coalesce(sum(events), 0) FROM aimeter.usage_daily"))
        qn = int(q.split("(")[1].split()[0]) if "(" in q else 0
        if q.startswith("1 ") and got + qn == total and st.get("spooled events") == "0":
            break
        time.sleep(0.5)
    else:
        h.fail("expected 1 quarantined batch and the rest delivered: %s, delivered %d of %d\n%s"
               % (st, got, total, a.log()[-2000:]))
    a.stop()
    qdir = os.path.join(a.state, "quarantine")
    files = os.listdir(qdir)
    if len(files) != 1:
        h.fail("quarantine holds %s" % files)
    if "rejected batch" not in a.log() or "HTTP 400" not in a.log():
        h.fail("no log line for the quarantined batch")
    after = [s for p, s, _ in rec.bodies if p == "/v1/batches"][2:]
    if not after or any(s != 200 for s in after):
        h.fail("later batches did not flow: %s" % after)
    h.log("400: 1 batch (%d events) quarantined in %s, %d later batches delivered"
          % (qn, files[0], len(after)))
finally:
    if rec is not None:
        rec.close()
    c.close()

# --- 401: token revoked mid-stream ---------------------------------------------
c = h.Cluster("revoke")
rec = None
try:
    c.start()
    logs, info = h.generate(c.dir)
    want = h.truth_totals(logs)
    revoked = []

    def answer(i):
        # Slow the first batches down, and revoke the device after two.
        time.sleep(0.3)
        if i == 2 and not revoked:
            h.psql(c.db, "UPDATE aimeter.devices SET revoked_at = now()")
            # The host stays out until allowed (e2e-revoked.py); here it is.
            h.psql(c.db, "SELECT aimeter.allow_reenroll(device_id::text) FROM aimeter.devices")
            revoked.append(i)
        return None

    rec = h.Recorder(c, answer=answer)
    a = h.Agent(c, logs, url=rec.url, extra="[ship]\nbatch_events = 50\n")
    a.start()
    h.wait_totals(c, want, agent=a, timeout=180)
    a.stop()
    statuses = [s for p, s, _ in rec.bodies if p == "/v1/batches"]
    enrolls = [s for p, s, _ in rec.bodies if p == "/v1/enroll"]
    devices = h.psql(c.db, "SELECT count(*) FROM aimeter.devices")
    if 401 not in statuses or len(enrolls) < 2 or devices != "2":
        h.fail("expected a 401 and a second enrollment: batches %s, enrolls %s, devices %s"
               % (statuses, enrolls, devices))
    h.log("401: token revoked after 2 batches, re-enrolled (%s devices), totals exact" % devices)
finally:
    if rec is not None:
        rec.close()
    c.close()
print("ok")
