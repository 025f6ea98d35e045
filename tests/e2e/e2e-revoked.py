#!/usr/bin/env python3
"""Revocation sticks (issue 11): a real agent enrolls with the enrollment
secret on disk and ships; the admin revokes the device (aimeterctl device
revoke); the agent gets 401, tries to enroll again with the secret still on
disk and stays out: no new device, no event accepted. aimeterctl device
allow-reenroll lets it back in, and every event it kept arrives, exactly.

Then a secret capped at one device: a second agent with the same secret is
refused and ships nothing, the first one is unaffected."""
import hashlib
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402


def ctl(cluster, *args):
    r = subprocess.run([h.CTL] + list(args) + ["--db", cluster.conninfo], capture_output=True,
                       text=True)
    if r.returncode != 0:
        h.fail("aimeterctl %s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout,
                                                 r.stderr))
    return r.stdout


def events(cluster):
    return int(h.psql(cluster.db, "SELECT coalesce(sum(events), 0) FROM aimeter.usage_daily"))


def wait(pred, what, agent, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        if agent.proc is not None and agent.proc.poll() is not None:
            break
        time.sleep(0.25)
    h.fail("timed out waiting for %s; agent log tail:\n%s" % (what, agent.log()[-3000:]))


# --- revoked, refused, allowed back -----------------------------------------------------------
c = h.Cluster("revoked")
rec = None
try:
    c.start()
    logs, info = h.generate(c.dir)
    want = h.truth_totals(logs)
    total = sum(v[0] for v in want.values())
    lock = threading.Lock()
    revoked = {}

    def answer(i):
        # Let two batches through, then the admin revokes the device.
        time.sleep(0.3)
        with lock:
            if i == 2 and not revoked:
                dev = h.psql(c.db, "SELECT device_id FROM aimeter.devices")
                r = subprocess.run([h.CTL, "device", "revoke", dev, "--db", c.conninfo],
                                   capture_output=True, text=True)
                revoked.update(device=dev, rc=r.returncode, out=r.stdout + r.stderr)
        return None

    rec = h.Recorder(c, answer=answer)
    a = h.Agent(c, logs, url=rec.url, extra="[ship]\nbatch_events = 50\n")
    a.start()

    def refused_enrolls():
        with rec.lock:
            return [s for p, s, _ in rec.bodies if p == "/v1/enroll" and s != 200]

    wait(lambda: len(refused_enrolls()) >= 3, "three refused enrollments after the revocation", a)
    if revoked.get("rc") != 0:
        h.fail("aimeterctl device revoke: %s" % revoked)
    # Out for good: more attempts, and nothing changes meanwhile.
    e1 = events(c)
    n = len(refused_enrolls())
    wait(lambda: len(refused_enrolls()) >= n + 3, "three more refused enrollments", a)
    e2 = events(c)
    with rec.lock:
        seen = [(p, s) for p, s, _ in rec.bodies]
    first_refusal = next(i for i, (p, s) in enumerate(seen) if p == "/v1/enroll" and s != 200)
    later_ok = [s for p, s in seen[first_refusal:] if s == 200]
    batch_statuses = [s for p, s in seen if p == "/v1/batches"]
    devices = h.psql(c.db, "SELECT count(*) FROM aimeter.devices")
    if (e1 != e2 or e1 >= total or later_ok or 401 not in batch_statuses or devices != "1"
            or h.psql(c.db, "SELECT count(*) FROM aimeter.devices WHERE revoked_at IS NULL")
            != "0"):
        h.fail("the revoked agent got back in: events %d then %d of %d, 200s after the first "
               "refusal %s, batches %s, devices %s\n%s"
               % (e1, e2, total, later_ok, batch_statuses, devices, a.log()[-3000:]))
    if "HTTP 401" not in a.log() or "could not enroll" not in a.log():
        h.fail("the agent's log does not show the 401 and the refused enrollment")
    h.log("revoked: 401, %d enrollments refused, %d of %d events in, 1 device"
          % (len(refused_enrolls()), e2, total))

    out = ctl(c, "device", "allow-reenroll", revoked["device"])
    if "may enroll again" not in out:
        h.fail("allow-reenroll said: %s" % out)
    h.wait_totals(c, want, agent=a, timeout=180)
    a.stop()
    devices = h.psql(c.db, "SELECT count(*) FROM aimeter.devices WHERE revoked_at IS NULL")
    if devices != "1":
        h.fail("expected one active device after allow-reenroll, got %s" % devices)
    h.log("allowed back: enrolled again, totals exact (%d events)" % total)
finally:
    if rec is not None:
        rec.close()
    c.close()

# --- the (N+1)th device on a secret capped at N -------------------------------------------------
c = h.Cluster("cap")
try:
    c.start()
    sid = hashlib.sha256(h.SECRET.encode()).hexdigest()[:8]
    if "at most 1 active devices" not in ctl(c, "enroll-token", "set", sid, "--max-devices", "1"):
        h.fail("enroll-token set did not cap the secret")
    logs1, _ = h.generate(os.path.join(c.dir, "one"))
    want = h.truth_totals(logs1)
    a1 = h.Agent(c, logs1, name="agent1")
    a1.start()
    h.wait_totals(c, want, agent=a1, timeout=180)
    logs2, _ = h.generate(os.path.join(c.dir, "two"), "--seed", "7")
    a2 = h.Agent(c, logs2, name="agent2")
    a2.start()
    wait(lambda: a2.log().count("could not enroll") >= 3, "three refused enrollments of agent2",
         a2)
    a2.stop()
    a1.stop()
    devices = h.psql(c.db, "SELECT count(*) FROM aimeter.devices")
    if devices != "1" or c.totals() != want:
        h.fail("the second device on a secret capped at 1 got in: %s devices\n%s"
               % (devices, a2.log()[-2000:]))
    h.log("cap: the second device on a secret capped at 1 refused, the first unaffected")
finally:
    c.close()
print("ok")
