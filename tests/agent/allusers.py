#!/usr/bin/env python3
"""allusers.py AGENT: all-users mode against hostile local users, with real accounts.

Three throwaway users (made with useradd, removed at the end): A is walked
first and attacks, B is the victim, C has a symlinked ~/.claude.

A's home holds, besides A's own log:
  projects/x -> B's projects dir, projects/root -> /, projects/shadow.jsonl ->
  /etc/shadow, pa/link.jsonl -> B's transcript (a file link inside a project),
  pa/foreign.jsonl owned by B, fdir/ (a directory owned by B, A's file inside),
  ~/.claude.json -> B's account file (identity policy tool-account), and in its
  own log a pre-1970 timestamp and a 2e9-token count among good lines, and
  B's repository as working directory (policy git-remote: B's remote must not
  become A's project label).
C: ~/.claude -> B's ~/.claude.

Expected, from `scan --all-users --format jsonl` and from `collect` (the
incremental reader): B's events exactly once, as B's account identity; A's
good events exactly (the two bad lines dropped, nothing else lost); nothing
for C; the skips counted (symbolic links, foreign owners, implausible lines).
Needs root: without it this test fails (it never skips).
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

agent = os.path.abspath(sys.argv[1])
if os.geteuid() != 0:
    print("allusers: FAIL: must run as root (it creates users with useradd)")
    sys.exit(1)

tag = "%04d" % (os.getpid() % 10000)
names = {k: "amt%s%s" % (k.lower(), tag) for k in "ABC"}
base = tempfile.mkdtemp(prefix="am-allusers-")
REMOTE = "https://git.example.com/b/secret.git"
os.chmod(base, 0o755)


def line(msg_id, ts, out_tokens, user_tag, cwd=None):
    return json.dumps({
        "type": "assistant", "sessionId": "s-" + user_tag, "cwd": cwd or "/work/" + user_tag,
        "uuid": "u-" + msg_id, "timestamp": ts,
        "message": {"model": "claude-sonnet-4-5", "id": msg_id, "usage": {
            "input_tokens": 10, "output_tokens": out_tokens, "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 0}}}) + "\n"


def write(path, text, uid, gid, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def mkdir(path, uid, gid):
    os.makedirs(path, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, 0o700)


def cleanup():
    for n in names.values():
        subprocess.run(["userdel", n], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("allusers: FAIL:", msg)


try:
    users = {}
    for k in "ABC":  # in this order in /etc/passwd: A is walked before B
        home = os.path.join(base, k.lower())
        subprocess.run(["useradd", "-M", "-d", home, "-s", "/usr/sbin/nologin", names[k]],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(names[k])
        users[k] = (pw.pw_uid, pw.pw_gid, home)
        mkdir(home, pw.pw_uid, pw.pw_gid)
    (ua, ga, ha), (ub, gb, hb), (uc, gc, hc) = users["A"], users["B"], users["C"]

    # B: the victim, logged in with an account
    mkdir(hb + "/.claude", ub, gb)
    mkdir(hb + "/.claude/projects", ub, gb)
    mkdir(hb + "/.claude/projects/pb", ub, gb)
    b_events = {"msg_b%d" % i: 1000 + i for i in range(5)}
    repo = hb + "/repo"
    mkdir(repo, ub, gb)
    mkdir(repo + "/.git", ub, gb)
    write(repo + "/.git/config", '[remote "origin"]\n\turl = %s\n' % REMOTE, ub, gb)
    write(hb + "/.claude/projects/pb/s.jsonl",
          "".join(line(m, "2026-09-14T10:0%d:00.000Z" % i, o, "b", repo)
                  for i, (m, o) in enumerate(b_events.items())), ub, gb)
    write(hb + "/.claude.json", json.dumps({"oauthAccount": {"emailAddress": "b@example.com"}}),
          ub, gb)

    # A: the attacker
    pa = ha + "/.claude/projects"
    mkdir(ha + "/.claude", ua, ga)
    mkdir(pa, ua, ga)
    mkdir(pa + "/pa", ua, ga)
    a_events = {"msg_a%d" % i: 2000 + i for i in range(4)}
    # A's lines claim B's repository as their working directory
    text = line("msg_a0", "2026-09-15T10:00:00.000Z", a_events["msg_a0"], "a", repo)
    text += line("msg_bad_ts", "1969-12-31T23:59:59.000Z", 7, "a")
    text += line("msg_a1", "2026-09-15T10:01:00.000Z", a_events["msg_a1"], "a")
    text += line("msg_bad_count", "2026-09-15T10:02:00.000Z", 2000000000, "a")
    text += line("msg_a2", "2026-09-15T10:03:00.000Z", a_events["msg_a2"], "a")
    text += line("msg_a3", "2026-09-15T10:04:00.000Z", a_events["msg_a3"], "a")
    write(pa + "/pa/s.jsonl", text, ua, ga)
    os.symlink(hb + "/.claude/projects", pa + "/x")
    os.symlink("/", pa + "/root")
    os.symlink("/etc/shadow", pa + "/shadow.jsonl")
    os.symlink(hb + "/.claude/projects/pb/s.jsonl", pa + "/pa/link.jsonl")
    write(pa + "/pa/foreign.jsonl", line("msg_foreign", "2026-09-15T11:00:00.000Z", 5, "f"),
          ub, gb)
    mkdir(pa + "/fdir", ub, gb)
    write(pa + "/fdir/s.jsonl", line("msg_in_foreign_dir", "2026-09-15T12:00:00.000Z", 5, "f"),
          ua, ga)
    os.symlink(hb + "/.claude.json", ha + "/.claude.json")

    # C: ~/.claude is a link to B's
    os.symlink(hb + "/.claude", hc + "/.claude")

    conf = os.path.join(base, "agent.conf")
    with open(conf, "w") as f:
        f.write("[identity]\npolicy = tool-account\n[project]\nlabel_policy = git-remote\n")
    env = dict(os.environ, HOME=base, AIMETER_STATE_DIR=os.path.join(base, "state"))
    for k in list(env):
        if k.startswith("CLAUDE_") or k == "CODEX_HOME":
            del env[k]

    def events_of(out):
        mine = {}
        for ln in out.splitlines():
            e = json.loads(ln)
            if e["record"] != "usage":
                continue  # action records beside the usage events
            if e["session"] in ("s-a", "s-b", "s-f") or e["user"] in names.values() or \
                    e["user"] == "b@example.com":
                mine.setdefault(e["user"], []).append(e)
        return mine

    def verify(label, out, err):
        got = events_of(out)
        b = got.get("b@example.com", [])
        check(sorted(e["output_tokens"] for e in b) == sorted(b_events.values()),
              "%s: B's events as B's: got %r" % (label, b))
        a = got.get(names["A"], [])
        check(sorted(e["output_tokens"] for e in a) == sorted(a_events.values()),
              "%s: A's good events exactly: got %r" % (label, [e["output_tokens"] for e in a]))
        check(sum(e["input_tokens"] for e in a) == 40 and sum(e["cache_read_tokens"] for e in a) == 400,
              "%s: A's totals" % label)
        check(set(got) <= {"b@example.com", names["A"]},
              "%s: events attributed to someone else: %r" % (label, sorted(got)))
        check(all(e["session"] == "s-b" for e in b) and all(e["session"] == "s-a" for e in a),
              "%s: nothing read through a link or from a foreign file" % label)
        check(all(e["project"] == REMOTE for e in b), "%s: B's project label" % label)
        check(all(e["project"] != REMOTE for e in a),
              "%s: A labelled events with B's repository: %r" % (label, [e["project"] for e in a]))
        for what in ("symbolic links not followed (all-users mode)",
                     "files or directories owned by another user (all-users mode)",
                     "usage lines with an implausible timestamp or token count"):
            check(what in err, "%s: counted warning %r missing from:\n%s" % (label, what, err))
        return got

    r = subprocess.run([agent, "scan", "--all-users", "-c", conf, "--format", "jsonl"],
                       env=env, capture_output=True, text=True)
    check(r.returncode == 0, "scan exit %d: %s" % (r.returncode, r.stderr))
    verify("scan", r.stdout, r.stderr)
    if os.environ.get("AM_VERBOSE"):
        print(r.stderr)
    # exact counts: 5 links (x, root, shadow.jsonl, link.jsonl, C's ~/.claude), 2 foreign, 2 bad
    for n, what in ((5, "symbolic links not followed (all-users mode)"),
                    (2, "files or directories owned by another user (all-users mode)"),
                    (2, "usage lines with an implausible timestamp or token count")):
        check(("%d %s" % (n, what)) in r.stderr, "scan: want %d %s in:\n%s" % (n, what, r.stderr))

    os.makedirs(os.path.join(base, "state"), exist_ok=True)
    r = subprocess.run([agent, "collect", "--all-users", "-c", conf, "--settle", "0",
                        "--state-dir", os.path.join(base, "state")],
                       env=env, capture_output=True, text=True)
    check(r.returncode == 0, "collect exit %d: %s" % (r.returncode, r.stderr))
    verify("collect", r.stdout, r.stderr)
finally:
    cleanup()

if failures:
    sys.exit(1)
print("allusers: nothing read through links or foreign files; every good event kept")
