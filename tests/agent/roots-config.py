#!/usr/bin/env python3
"""roots-config.py AGENT FIXTURES: every command finds roots and configuration one way.

- $AIMETER_CONFIG names the configuration for scan, report, collect and -n alike (it was
  read by run, status and flush only); -c FILE wins over it.
- $XDG_CONFIG_HOME/claude is a default Claude root for scan and collect alike.
- collect over the same roots hands out what scan prints, and a second pass nothing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

agent, fixtures = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="am-roots-")
home = os.path.join(tmp, "home")
os.makedirs(home)
base = {k: v for k, v in os.environ.items()
        if k not in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME") and
        not k.startswith("AIMETER_")}
base["HOME"] = home


def run(args, env):
    p = subprocess.run([agent] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0, (args, p.returncode, p.stderr.decode())
    return p.stdout.decode()


def events(out):
    return sorted(e["event_id"] for e in map(json.loads, filter(str.strip, out.splitlines()))
                  if e["record"] == "usage")


streaming = os.path.join(fixtures, "claude/streaming")
deltas = os.path.join(fixtures, "codex/deltas")
want = events(run(["scan", "--format", "jsonl", "--claude-dir", streaming, "--codex-dir", deltas],
                  base))
assert len(want) >= 2, want

# AIMETER_CONFIG, for every command
conf = os.path.join(tmp, "agent.conf")
with open(conf, "w") as f:
    f.write("[sources]\nclaude_dirs = %s\ncodex_dirs = %s\n[agent]\nstate_dir = %s\n"
            "[identity]\nteam_hint = from-aimeter-config\n"
            % (streaming, deltas, os.path.join(tmp, "state")))
env = dict(base, AIMETER_CONFIG=conf)
assert events(run(["scan", "--format", "jsonl"], env)) == want
assert "from-aimeter-config" in run(["-n"], env)
assert "events" in run(["report", "daily", "--json", "--tz", "UTC"], env)
got = run(["collect", "--settle", "0"], env)
assert events(got) == want, (events(got), want)
assert '"team_hint":"from-aimeter-config"' in got
assert events(run(["collect", "--settle", "0"], env)) == []  # nothing twice
# -c wins over AIMETER_CONFIG
other = os.path.join(tmp, "other.conf")
with open(other, "w") as f:
    f.write("[identity]\nteam_hint = from-dash-c\n")
assert "from-dash-c" in run(["-n", "-c", other], env)

# XDG_CONFIG_HOME/claude is a default root, for scan and collect
xdg = os.path.join(tmp, "xdg")
shutil.copytree(streaming, os.path.join(xdg, "claude"))
env = dict(base, XDG_CONFIG_HOME=xdg, AIMETER_STATE_DIR=os.path.join(tmp, "state-xdg"))
claude_only = events(run(["scan", "--format", "jsonl", "--claude-dir", streaming], base))
assert events(run(["scan", "--format", "jsonl"], env)) == claude_only
assert events(run(["collect", "--settle", "0"], env)) == claude_only

shutil.rmtree(tmp)
print("roots and configuration are found the same way by every command")
