#!/usr/bin/env python3
"""All-users mode through a real agent daemon and a real collector, with real
local accounts (useradd; needs root: without it this test fails, never skips).

User A (walked first) links ~/.claude/projects/x to B's projects, /root to /,
shadow.jsonl to /etc/shadow and pa/link.jsonl to B's transcript, and writes a
pre-1970 timestamp and a 2e9-token count among good lines. Expected in the
database: B's events exactly, under B's identity; A's good events exactly,
under A's; nothing else of theirs, no batch quarantined; `aimeter-agent
status` counts the links and the dropped lines.
"""
import hashlib
import hmac
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

if os.geteuid() != 0:
    h.fail("must run as root (it creates users with useradd)")

tag = "%04d" % (os.getpid() % 10000)
names = {k: "ame%s%s" % (k.lower(), tag) for k in "AB"}
base = tempfile.mkdtemp(prefix="am-e2e-allusers-")
os.chmod(base, 0o755)


def line(msg_id, ts, out_tokens, session):
    return json.dumps({
        "type": "assistant", "sessionId": session, "cwd": "/work/" + session, "timestamp": ts,
        "message": {"model": "claude-sonnet-4-5", "id": msg_id, "usage": {
            "input_tokens": 10, "output_tokens": out_tokens}}}) + "\n"


def owned_dir(path, pw):
    os.makedirs(path, exist_ok=True)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o700)


def owned_file(path, text, pw):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, pw.pw_uid, pw.pw_gid)


c = None
a = None
try:
    pws = {}
    for k in "AB":
        home = os.path.join(base, k.lower())
        h.run(["useradd", "-M", "-d", home, "-s", "/usr/sbin/nologin", names[k]])
        pws[k] = pwd.getpwnam(names[k])
        owned_dir(home, pws[k])
    pa, pb = pws["A"], pws["B"]
    sb = "s-b" + tag
    sa = "s-a" + tag
    b_proj = os.path.join(pb.pw_dir, ".claude", "projects")
    for d in (os.path.dirname(b_proj), b_proj, b_proj + "/pb"):
        owned_dir(d, pb)
    b_out = [1000 + i for i in range(5)]
    owned_file(b_proj + "/pb/s.jsonl", "".join(
        line("msg_b%s_%d" % (tag, i), "2026-09-14T10:0%d:00.000Z" % i, o, sb)
        for i, o in enumerate(b_out)), pb)

    a_proj = os.path.join(pa.pw_dir, ".claude", "projects")
    for d in (os.path.dirname(a_proj), a_proj, a_proj + "/pa"):
        owned_dir(d, pa)
    a_out = [2000, 2001, 2002]
    text = line("msg_a%s_0" % tag, "2026-09-15T10:00:00.000Z", a_out[0], sa)
    text += line("msg_a%s_old" % tag, "1969-12-31T23:59:59.000Z", 7, sa)
    text += line("msg_a%s_1" % tag, "2026-09-15T10:01:00.000Z", a_out[1], sa)
    text += line("msg_a%s_big" % tag, "2026-09-15T10:02:00.000Z", 2000000000, sa)
    text += line("msg_a%s_2" % tag, "2026-09-15T10:03:00.000Z", a_out[2], sa)
    owned_file(a_proj + "/pa/s.jsonl", text, pa)
    os.symlink(b_proj, a_proj + "/x")
    os.symlink("/", a_proj + "/root")
    os.symlink("/etc/shadow", a_proj + "/shadow.jsonl")
    os.symlink(b_proj + "/pb/s.jsonl", a_proj + "/pa/link.jsonl")

    c = h.Cluster("allusers")
    c.start()
    empty = os.path.join(base, "empty")
    os.makedirs(empty + "/claude")
    os.makedirs(empty + "/codex")
    a = h.Agent(c, empty, extra="[sources]\nall_users = true\n")
    a.start()

    # person_key: HMAC-SHA-256 of the normalised identity (common/identity.h), no people yet
    with open(c.person_key) as f:
        key = f.read().strip().encode()
    who = {hmac.new(key, names[k].lower().encode(), hashlib.sha256).hexdigest(): names[k]
           for k in "AB"}
    want = {(sa, names["A"]): [3, sum(a_out), 30], (sb, names["B"]): [5, sum(b_out), 50]}
    sql = ("SELECT session, encode(person_key, 'hex'), count(*), sum(output_tokens), "
           "sum(input_tokens) FROM aimeter.usage_events "
           "WHERE session IN ('%s', '%s') GROUP BY 1, 2 ORDER BY 1, 2" % (sa, sb))
    got = {}
    end = time.time() + 120
    while time.time() < end:
        got = {}
        for row in h.psql(c.db, sql).splitlines():
            p = row.split("|")
            got[(p[0], who.get(p[1], p[1]))] = [int(x) for x in p[2:]]
        if got == want:
            break
        time.sleep(0.5)
    if got != want:
        h.fail("events per session and identity: want %s, got %s\nagent log:\n%s"
               % (want, got, a.log()[-3000:]))
    h.log("B's %d events arrived as B's, A's %d good events as A's" % (5, 3))
    st = {}
    end = time.time() + 30
    while time.time() < end:
        st = a.status()
        if st.get("spooled events") == "0" and "links not followed" in st:
            break
        time.sleep(0.5)
    a.stop()
    st = a.status()
    checks = [("links not followed", "4 (last pass, all-users mode)"),
              ("implausible lines", "2 dropped since the daemon started"),
              ("quarantined batches", "0 (0 events)"), ("spooled events", "0")]
    for k, v in checks:
        if st.get(k) != v:
            h.fail("status %r: want %r, got %r; status: %s" % (k, v, st.get(k), st))
    log_text = a.log()
    if "symbolic link not followed in all-users mode" not in log_text:
        h.fail("no warning about the links in the log:\n" + log_text[-3000:])
    h.log("status counts 4 links and 2 implausible lines; nothing quarantined")
finally:
    if a is not None:
        a.kill()
    if c is not None:
        c.close()
    for n in names.values():
        subprocess.run(["userdel", n], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)
print("ok")
