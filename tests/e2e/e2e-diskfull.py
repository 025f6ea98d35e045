#!/usr/bin/env python3
"""The workstation's disk fills up. The agent's state directory (spool, positions, status)
is a small ext4 image mounted by the test. Half the logs are delivered; the test then fills
the filesystem and more logs arrive. The spool writes fail with ENOSPC: the agent stays up,
stops advancing its reading positions, says so in `aimeter-agent status`, and its spool stays
readable. It is killed -9 and started again while the disk is still full. Then the filler is
removed: the agent resumes by itself and the database equals the truth."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402


def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        h.fail("%s: %s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r.stdout


def fill(path):
    """Writes path until the filesystem has no block left (ENOSPC)."""
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
        try:
            while True:  # the last partial block
                f.write(b"\0" * 512)
        except OSError:
            pass
    return os.path.getsize(path)


def wait_status(a, pred, what, timeout=120):
    end = time.time() + timeout
    st = {}
    while time.time() < end:
        st = a.status()
        if pred(st):
            return st
        time.sleep(0.5)
    h.fail("waited for %s: %s\n%s" % (what, st, a.log()[-3000:]))


if os.getuid() != 0:
    h.fail("needs root to mount the filesystem image (tests/run runs as root)")

c = h.Cluster("diskfull")
mounted = None
a = None
try:
    c.start()
    logs, _ = h.generate(c.dir, "--sessions", "80")
    want = h.truth_totals(logs)
    total = sum(v[0] for v in want.values())
    staged = os.path.join(c.dir, "staged")
    os.rename(logs, staged)
    files = sorted(os.path.relpath(os.path.join(d, n), staged)
                   for d, _, ns in os.walk(staged) for n in ns
                   if os.path.relpath(d, staged).startswith(("claude", "codex")))
    for tool in ("claude", "codex"):
        os.makedirs(os.path.join(logs, tool))

    def release(part):
        for rel in part:
            dst = os.path.join(logs, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(staged, rel), dst)

    a = h.Agent(c, logs, extra="[ship]\nbatch_events = 100\n")
    image = os.path.join(c.dir, "state.img")
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    sh("mkfs.ext4", "-q", "-m", "0", image)  # -m 0: no blocks kept back for root
    os.makedirs(a.state)
    sh("mount", "-o", "loop", image, a.state)
    mounted = a.state
    os.chmod(a.state, 0o700)
    a.start()

    release(files[:len(files) // 2])
    wait_status(a, lambda st: st.get("spooled events") == "0"
                and int(st.get("shipped events", "0")) > 0, "the first half delivered")
    stored_before = int(h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events"))
    h.log("first half delivered: %d events; filling the state filesystem" % stored_before)

    filler = os.path.join(a.state, "filler")
    size = fill(filler)
    h.log("filler of %d bytes; df: %s" % (size, sh("df", "-k", a.state).splitlines()[-1]))
    release(files[len(files) // 2:])
    st = wait_status(a, lambda st: "No space left on device" in st.get("spool writes", ""),
                     "status to report the full disk")
    h.log("status while full: spool writes: %s" % st["spool writes"])
    time.sleep(6)  # at least one more attempt while full
    if a.proc.poll() is not None:
        h.fail("the agent exited on a full disk:\n" + a.log()[-3000:])
    stored_full = int(h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events"))
    if stored_full >= total:
        h.fail("everything arrived although the disk was full: the test filled nothing")
    st = a.status()  # the spool is readable, and holds nothing it could not write
    h.log("while full: %d of %d events stored, spooled %s, status: %s"
          % (stored_full, total, st.get("spooled events"), st.get("spool writes")))

    a.kill()
    a.start()
    h.log("agent killed -9 and started again on the full disk")
    time.sleep(8)
    if a.proc.poll() is not None:
        h.fail("the agent could not start on a full disk:\n" + a.log()[-3000:])
    st = wait_status(a, lambda st: "No space left on device" in st.get("spool writes", ""),
                     "status to report the full disk after the restart")
    if "until a write succeeds" not in st["spool writes"]:
        h.fail("status after the restart: %s" % st)

    os.unlink(filler)
    h.log("filler removed")
    h.wait_totals(c, want, timeout=180, agent=a)
    st = wait_status(a, lambda st: st.get("spool writes") == "ok", "status to clear")
    got = int(h.psql(c.db, "SELECT count(*) FROM aimeter.usage_events"))
    if got != total:
        h.fail("usage_events has %d rows, the truth %d events" % (got, total))
    log = a.log()
    if "reading resumed" not in log:
        h.fail("the agent did not log that reading resumed:\n" + log[-3000:])
    a.stop()
    h.log("exact after space returned: %d events (%d stored before the disk filled, "
          "%d while full)" % (total, stored_before, stored_full))
    print("ok")
finally:
    if a is not None:
        a.kill()
    if mounted is not None:
        subprocess.run(["umount", mounted])
    c.close()
