#!/usr/bin/env python3
"""realtools_actions.py AGENT: the agent's action records of real Claude Code and Codex sessions
equal what those sessions did to a real git workspace.

The pinned tools (realtools.py's cache; AM_REALTOOLS_LATEST=1 for the latest releases) run
headless against the loopback stand-ins, whose model replies follow a script (scripted.py): read,
write a new file, edit, overwrite, `git commit --dry-run`, a commit that succeeds, one that fails
(nothing to commit), `git log`, `echo "git commit"` and `gh pr create` (a stand-in `gh` on PATH:
gh is not installed and there is no network). Claude Code runs the script twice: with every tool
allowed, and with Write and Edit refused and `gh` denied (headless: `--permission-prompts none`
and a deny rule). Codex runs a patch script (add, update, delete) and the shell steps, once with
the sandbox off and once in the read-only sandbox. Then `aimeter-agent scan --format jsonl` over
the transcripts: one action record per scripted call, with the kind, decision and counts the
spec gives, lines equal to what the workspace saw change at that step (`git diff --no-index
--numstat` between the snapshots taken before and after it), commits equal to the commits the
repository gained at that step, pull requests to the `gh` stand-in's invocations, and no marker
text (paths, commands, file contents, commit messages) in any action line.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import realtools  # noqa: E402
import scripted  # noqa: E402
import standin  # noqa: E402

APP = "src/amrt_m4rk3r_app.py"
UTIL = "src/amrt_m4rk3r_util.py"
NOTES = "amrt_m4rk3r_notes.md"
APP_V0 = "def run():\n    return 1  # AMRT-CONTENT-v0\n\n\nrun()\n"
NOTES_V0 = "# AMRT-CONTENT notes\none\ntwo\nthree\n"
# A model in Codex's bundled catalogue, whose entry offers the freeform apply_patch tool; the
# models realtools.py uses are unknown to it and get no apply_patch tool.
CODEX_MODEL = "gpt-5.5"
GH = "#!/bin/sh\n# Stand-in for the GitHub CLI (not installed; no network in tests).\n" \
     "set -e\necho \"$*\" >> \"$AMRT_GH_LOG\"\necho https://github.com/amrt/demo/pull/7\n"


def log(msg):
    print("realtools-actions: " + msg, flush=True)


def git(work, *args):
    p = subprocess.run(["git"] + list(args), cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise SystemExit("git %s: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
    return p.stdout.decode()


def workspace(home, name):
    """A fresh git repository with two committed files, as a user would have it."""
    work = os.path.join(home, name)
    os.makedirs(os.path.join(work, "src"))
    git(work, "init", "-q", "-b", "main")
    for k, v in (("user.name", "AMRT Tester"), ("user.email", "amrt@example.com"),
                 ("commit.gpgsign", "false")):
        git(work, "config", k, v)
    for rel, text in ((APP, APP_V0), (NOTES, NOTES_V0)):
        with open(os.path.join(work, rel), "w") as f:
            f.write(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "initial (by the user)")
    return work


def tool_env(home):
    env = realtools.base_env(home)
    ghdir = os.path.join(home, "gh-bin")
    os.makedirs(ghdir, exist_ok=True)
    with open(os.path.join(ghdir, "gh"), "w") as f:
        f.write(GH)
    os.chmod(os.path.join(ghdir, "gh"), 0o755)
    env["PATH"] = ghdir + ":" + env["PATH"]
    # Codex runs commands in a login shell, whose /etc/profile resets PATH.
    with open(os.path.join(home, ".bash_profile"), "w") as f:
        f.write('export PATH="%s:$PATH"\n' % ghdir)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    return env


APP_V1 = "def run():\n    x = 2  # AMRT-CONTENT-v1\n    return x\n\n\nrun()\n"
APP_V2 = "import sys\n\n\ndef run():\n    x = 2  # AMRT-CONTENT-v1\n    return x\n\n\nsys.exit(run())\n"
UTIL_V0 = "# AMRT-CONTENT util\nA = 1\nB = 2\n"


def claude_steps(work):
    """The scripted calls with what the spec makes of them: kind, and the proposed lines
    (section C.4: trim of Edit strings, lines of Write content)."""
    app, util = os.path.join(work, APP), os.path.join(work, UTIL)
    return [
        dict(name="Read", input={"file_path": app}, kind="other"),
        dict(name="Write", input={"file_path": util, "content": UTIL_V0}, kind="write", proposed=(3, 0)),
        dict(name="Edit", input={"file_path": app, "old_string": "    return 1  # AMRT-CONTENT-v0\n",
                                 "new_string": "    x = 2  # AMRT-CONTENT-v1\n    return x\n"},
             kind="edit", proposed=(2, 1)),
        dict(name="Write", input={"file_path": app, "content": APP_V2}, kind="write", proposed=(9, 0)),
        dict(name="Bash", input={"command": 'git add -A && git commit --dry-run -m "AMRT-MSG dry"',
                                 "description": "AMRT-DESC dry run"}, kind="shell"),
        dict(name="Bash", input={"command": 'git add -A && git commit -q --allow-empty -m "AMRT-MSG one"',
                                 "description": "AMRT-DESC commit"}, kind="commit"),
        dict(name="Bash", input={"command": 'git commit -m "AMRT-MSG nothing"',
                                 "description": "AMRT-DESC commit again"}, kind="commit"),
        dict(name="Bash", input={"command": "git log --oneline", "description": "AMRT-DESC log"},
             kind="shell"),
        dict(name="Bash", input={"command": 'echo "git commit"', "description": "AMRT-DESC echo"},
             kind="shell"),
        dict(name="Bash", input={"command": 'gh pr create --title "AMRT-MSG pr" --body "AMRT-MSG body"',
                                 "description": "AMRT-DESC pull request"}, kind="pull_request"),
    ]


CODEX_PATCHES = {
    "add": "*** Begin Patch\n*** Add File: %s\n+# AMRT-CONTENT util\n+A = 1\n+B = 2\n*** End Patch\n" % UTIL,
    "update": ("*** Begin Patch\n*** Update File: %s\n@@\n def run():\n-    return 1  # AMRT-CONTENT-v0\n"
               "+    x = 2  # AMRT-CONTENT-v1\n+    return x\n*** End Patch\n" % APP),
    "delete": "*** Begin Patch\n*** Delete File: %s\n*** End Patch\n" % NOTES,
}


def codex_steps(work):
    """Patches that add, update and delete a file, then the shell steps. Proposed lines by
    sections D.5 and F.3: a deleted file's lines count only with a `patch_apply_end` event,
    which `codex exec` 0.169 does not write (see DELETE_GAP)."""
    def sh(cmd, kind):
        return dict(name="exec_command", input={"cmd": cmd, "workdir": work, "yield_time_ms": 10000},
                    kind=kind)
    return [
        dict(name="apply_patch", input={"input": CODEX_PATCHES["add"]}, kind="edit", proposed=(3, 0)),
        dict(name="apply_patch", input={"input": CODEX_PATCHES["update"]}, kind="edit", proposed=(2, 1)),
        dict(name="apply_patch", input={"input": CODEX_PATCHES["delete"]}, kind="edit", proposed=(0, 0),
             delete=True),
        sh('git add -A && git commit --dry-run -m "AMRT-MSG dry"', "shell"),
        sh('git add -A && git commit -q --allow-empty -m "AMRT-MSG one"', "commit"),
        sh('git commit -m "AMRT-MSG nothing"', "commit"),
        sh("git log --oneline", "shell"),
        sh('echo "git commit"', "shell"),
        sh('gh pr create --title "AMRT-MSG pr" --body "AMRT-MSG body"', "pull_request"),
    ]


# The runs: tool, name, the tool's arguments, and the decision the spec gives each scripted call
# (A accepted, R rejected, E error). Claude Code headless refuses through `--permission-prompts
# none` (what needs a prompt is denied: Write, Edit) and a deny rule (`Bash(gh *)`); it writes
# both with toolDenialKind "permission-rule". `codex exec` forces approval_policy "never", so it
# cannot be refused by a user: its read-only sandbox blocks the writes instead, and the outputs
# ("patch rejected: writing is blocked by read-only sandbox; ...", exit 128) are errors by D.3.
RUNS = [
    ("claude", "claude-allowed", ["--allowedTools", "Read", "Write", "Edit", "Bash"], "AAAAAAEAAA"),
    ("claude", "claude-refused", ["--permission-prompts", "none", "--allowedTools", "Read", "Bash",
                                  "--disallowedTools", "Bash(gh *)"], "ARRREAEAAR"),
    ("codex", "codex-allowed", ["--dangerously-bypass-approvals-and-sandbox"], "AAAAAEAAA"),
    ("codex", "codex-sandboxed", ["--sandbox", "read-only"], "EEEEEEAAE"),
]
DECISIONS = {"A": "accepted", "R": "rejected", "E": "error"}
FIELDS = {"record", "action_id", "tool", "ts", "session", "project", "user", "kind", "tool_name",
          "target", "decision", "lines_added", "lines_removed", "proposed_lines_added",
          "proposed_lines_removed", "file_ext", "commits", "pull_requests", "in_subagent"}


def codex_env(home, ch, port):
    os.makedirs(ch)
    with open(os.path.join(ch, "config.toml"), "w") as f:
        f.write('model = "%s"\nmodel_provider = "amrt"\ncheck_for_update_on_startup = false\n\n'
                '[analytics]\nenabled = false\n\n[features]\napply_patch_freeform = true\n\n'
                '[model_providers.amrt]\nname = "aimeter stand-in"\n'
                'base_url = "http://127.0.0.1:%d/v1"\nwire_api = "responses"\n'
                'env_key = "AMRT_OPENAI_KEY"\n' % (CODEX_MODEL, port))
    env = tool_env(home)
    env.update({"CODEX_HOME": ch, "AMRT_OPENAI_KEY": "sk-amrt-dummy"})
    return env


def session(bindir, home, servers, tool, name, args):
    """One scripted session in a fresh workspace, its transcripts in their own directory.
    Returns (work, script, transcript dir, gh log)."""
    work = workspace(home, name)
    tdir = os.path.join(home, "transcripts-" + name)
    srv = servers[tool]
    port = srv.server_address[1]
    prompt = scripted.SCRIPT_MARKER + " do the work"
    if tool == "claude":
        script = scripted.Script(work, claude_steps(work))
        env = realtools.claude_env(tool_env(home), tdir, port)
        argv = [os.path.join(bindir, "claude"), "-p", prompt, "--output-format", "json",
                "--model", realtools.CLAUDE_MODELS[0]] + args
    else:
        script = scripted.Script(work, codex_steps(work))
        env = codex_env(home, tdir, port)
        argv = [os.path.join(bindir, "codex"), "exec", "--skip-git-repo-check"] + args + [prompt]
    env["AMRT_GH_LOG"] = os.path.join(home, "gh-%s.log" % name)
    srv.RequestHandlerClass.script = script
    realtools.run(argv, env, work, "%s scripted session" % name)
    missing = [k for k in range(len(script.steps) + 1) if k not in script.seen]
    assert not missing, "%s: the script stopped before steps %s" % (name, missing)
    return work, script, tdir, env["AMRT_GH_LOG"]


def numstat(before, after):
    """(added, removed) between two snapshots' files, as `git diff --no-index --numstat` counts."""
    with tempfile.TemporaryDirectory() as d:
        for side, snap in (("a", before), ("b", after)):
            os.makedirs(os.path.join(d, side))
            for rel, text in snap["files"].items():
                p = os.path.join(d, side, rel)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w") as f:
                    f.write(text)
        p = subprocess.run(["git", "diff", "--no-index", "--numstat", "a", "b"], cwd=d,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode not in (0, 1):
            raise SystemExit("git diff --no-index: " + p.stderr.decode(errors="replace"))
    added = removed = 0
    for line in p.stdout.decode().splitlines():
        a, r, _ = line.split("\t", 2)
        added, removed = added + int(a), removed + int(r)
    return added, removed


def agent_cmd(agent, home, tool, tdir, args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMETER_")}
    env.update(HOME=home, TZ="UTC", AIMETER_STATE_DIR=os.path.join(home, "aimeter-state"))
    for k in ("CLAUDE_CONFIG_DIR", "CODEX_HOME"):
        env.pop(k, None)
    none = os.path.join(home, "no-such-dir")
    dirs = ["--claude-dir", tdir, "--codex-dir", none] if tool == "claude" else \
        ["--claude-dir", none, "--codex-dir", tdir]
    p = subprocess.run([agent] + args + ["--user", "rt@example.com"] + dirs, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        raise SystemExit("%s failed (%d): %s" % (" ".join(args), p.returncode,
                                                 p.stderr.decode(errors="replace")))
    return p.stdout.decode()


def expected(tool, step, decision, before, after):
    """The action record the spec gives a scripted call; the workspace decides applied lines."""
    kind = step["kind"]
    editing = kind in ("edit", "write")
    ok = decision == "accepted"
    applied = numstat(before, after) if ok and editing else (0, 0)
    if step.get("delete"):
        applied = step["proposed"] if ok else (0, 0)  # D.5 without patch_apply_end: see DELETE_GAP
    name = step["name"]
    return {"tool": "claude-code" if tool == "claude" else "codex", "kind": kind, "tool_name": name,
            "target": "", "decision": decision, "lines_added": applied[0],
            "lines_removed": applied[1], "proposed_lines_added": step.get("proposed", (0, 0))[0],
            "proposed_lines_removed": step.get("proposed", (0, 0))[1],
            "file_ext": ("md" if step.get("delete") else "py") if editing else "",
            "commits": after["commits"] - before["commits"],
            "pull_requests": 1 if kind == "pull_request" and ok else 0, "in_subagent": False}


def check_run(agent, home, run, res):
    """Compares the scan of one run with the script and the workspace; returns mismatches."""
    tool, name, _, decisions = run
    work, script, tdir, ghlog = res
    out = agent_cmd(agent, home, tool, tdir, ["scan", "--format", "jsonl"])
    acts = [json.loads(l) for l in out.splitlines() if json.loads(l)["record"] == "action"]
    bad = []
    if len(acts) != len(script.steps):
        return ["%s: %d action records for %d scripted calls" % (name, len(acts), len(script.steps))]
    prs = len(open(ghlog).read().splitlines()) if os.path.exists(ghlog) else 0
    commits = script.seen[len(script.steps)]["commits"] - script.seen[0]["commits"]
    log("%-16s %-13s %-13s %-9s %-11s %-11s %-11s %s" % (
        name, "call", "kind", "decision", "lines +/-", "workspace", "proposed", "commits/prs"))
    for k, (step, rec) in enumerate(zip(script.steps, acts)):
        if set(rec) != FIELDS:
            bad.append("%s step %d: fields %s" % (name, k, sorted(set(rec) ^ FIELDS)))
        want = expected(tool, step, DECISIONS[decisions[k]], script.seen[k], script.seen[k + 1])
        ws = numstat(script.seen[k], script.seen[k + 1])
        log("%-16s %-13s %-13s %-9s %4d/%-6d %4d/%-6d %4d/%-6d %d/%d" % (
            "", "%d %s" % (k, step["name"]), rec["kind"], rec["decision"], rec["lines_added"],
            rec["lines_removed"], ws[0], ws[1], rec["proposed_lines_added"],
            rec["proposed_lines_removed"], rec["commits"], rec["pull_requests"]))
        bad += ["%s step %d (%s) %s: want %r, scanned %r" % (name, k, step["name"], f, v, rec.get(f))
                for f, v in want.items() if rec.get(f) != v]
        if rec["decision"] != "accepted" and ws != (0, 0):
            bad.append("%s step %d: not accepted, yet the workspace changed %s" % (name, k, ws))
    got_c, got_p = sum(a["commits"] for a in acts), sum(a["pull_requests"] for a in acts)
    log("%-16s commits: repository %d, scan %d; pull requests: gh ran %d, scan %d" % (
        name, commits, got_c, prs, got_p))
    if (got_c, got_p) != (commits, prs):
        bad.append("%s: commits %d/%d, pull requests %d/%d (workspace/scan)" % (
            name, commits, got_c, prs, got_p))
    total = [r for r in json.loads(agent_cmd(agent, home, tool, tdir, ["report", "actions", "--json"]))
             if r["by"] == "total"][0]
    for f, v in (("calls", len(acts)), ("commits", got_c), ("pull_requests", got_p),
                 ("lines_added", sum(a["lines_added"] for a in acts)),
                 ("lines_removed", sum(a["lines_removed"] for a in acts)),
                 ("accepted", decisions.count("A")), ("rejected", decisions.count("R")),
                 ("error", decisions.count("E"))):
        if total[f] != v:
            bad.append("%s: report actions %s %d, want %d" % (name, f, total[f], v))
    leaked = [m for m in MARKERS + [home] if m in out]
    if leaked:
        bad.append("%s: text of the session in the scan output: %s" % (name, leaked))
    return bad


# Text of the scripted sessions (paths, commands, contents, commit messages, descriptions):
# none of it may be in the scan output.
MARKERS = ["AMRT", "m4rk3r", "--dry-run", "git log", "gh pr", "echo", "pull/7", "x = 2",
           standin.SECRET_PROMPT, standin.SECRET_REPLY]


def main():
    agent = os.path.abspath(sys.argv[1])
    only = sys.argv[2] if len(sys.argv) > 2 else None
    t0 = time.monotonic()
    bindir = realtools.install_tools()
    log("testing " + ", ".join("%s@%s" % kv for kv in realtools.tool_versions(bindir).items()))
    home = tempfile.mkdtemp(prefix="am-rtactions-")
    ledger = standin.Ledger()
    servers = {"claude": standin.serve(scripted.ScriptedAnthropic, ledger)[0],
               "codex": standin.serve(scripted.ScriptedOpenAI, ledger)[0]}
    try:
        if only == "codex-deleted-lines":
            return delete_gap(agent, bindir, home, servers)
        bad = []
        for run in RUNS:
            res = session(bindir, home, servers, run[0], run[1], run[2])
            bad += check_run(agent, home, run, res)
        for b in bad:
            print("MISMATCH " + b)
        assert not bad, "%d mismatches between the scan, the script and the workspace" % len(bad)
        log("exact: %d scripted sessions, %d calls, in %.1f s" % (
            len(RUNS), sum(len(r[3]) for r in RUNS), time.monotonic() - t0))
    finally:
        for s in servers.values():
            s.shutdown()
        if os.environ.get("AM_REALTOOLS_KEEP") == "1":
            log("kept " + home)
        else:
            shutil.rmtree(home, ignore_errors=True)


def delete_gap(agent, bindir, home, servers):
    """DELETE_GAP: the lines of a file Codex deleted, as the workspace saw them, against the scan.
    `codex exec` 0.169 writes no `patch_apply_end`; the deleted content is only in an
    `event_msg` `item_completed` whose `item` is a `FileChange` with `changes.<path>.type ==
    "delete"` and `content`, which specs/outcomes.md D.5 does not read. Fails until it does."""
    run = RUNS[2]
    work, script, tdir, _ = session(bindir, home, servers, run[0], run[1], run[2])
    k = [i for i, s in enumerate(script.steps) if s.get("delete")][0]
    ws = numstat(script.seen[k], script.seen[k + 1])
    out = agent_cmd(agent, home, "codex", tdir, ["scan", "--format", "jsonl"])
    rec = [json.loads(l) for l in out.splitlines() if json.loads(l)["record"] == "action"][k]
    got = (rec["lines_added"], rec["lines_removed"])
    log("codex delete: workspace %d/%d, scan %d/%d (proposed %d/%d)" % (
        ws + got + (rec["proposed_lines_added"], rec["proposed_lines_removed"])))
    assert got == ws, "the scan counts %d/%d lines for the deleted file, the workspace %d/%d" % (got + ws)


if __name__ == "__main__":
    main()
