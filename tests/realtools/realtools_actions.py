#!/usr/bin/env python3
"""realtools_actions.py AGENT: the agent's action records of real Claude Code and
Codex sessions equal what those sessions did to a real git workspace.

The pinned tools (realtools.py's cache; AM_REALTOOLS_LATEST=1 for the latest releases) run
headless against the loopback stand-ins, whose replies follow a script (scripted.py). Claude
Code: read, write a new file, edit, overwrite, `git commit --dry-run`, a commit that succeeds,
one that fails (nothing to commit), `git log`, `echo "git commit"`, `gh pr create` (a stand-in
`gh` on PATH: gh is not installed and there is no network). Codex: apply_patch add, update and
delete, then the same shell steps. Each runs with every tool allowed and with some refused
(RUNS says how and what the tools write). Then `aimeter-agent scan --format jsonl` and `report
actions --json` over each session's transcripts: one action record per scripted call with the
spec's kind and decision, applied lines equal to what the workspace saw change at that step
(`git diff --no-index --numstat` between the snapshots taken before and after it), proposed
lines equal to the script's, commits equal to those the repository gained at that step, pull
requests to the `gh` stand-in's runs, the report equal to the records, and no text of the
sessions (paths, commands, contents, messages) in either output.

Codex 0.169 writes no patch_apply_end in `codex exec`: a deleted file's lines come from the
`item_completed` FileChange item, which it writes only for a patch it applied. A delete that
never ran (the read-only sandbox) proposes 0 removed lines as far as any transcript can tell.
"""
import json
import os
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


def codex_steps(work, escalate=False):
    """Patches that add, update and delete a file (4 lines), then the shell steps. With
    escalate, the shell steps ask to run outside the sandbox, which the reviewer decides."""
    def sh(cmd, kind):
        args = {"cmd": cmd, "workdir": work, "yield_time_ms": 10000}
        if escalate:  # Outside the sandbox, which keeps .git read-only: the reviewer decides.
            args.update(sandbox_permissions="require_escalated", justification="AMRT-JUST run it")
        return dict(name="exec_command", input=args, kind=kind)
    return [
        dict(name="apply_patch", input={"input": CODEX_PATCHES["add"]}, kind="edit", proposed=(3, 0)),
        dict(name="apply_patch", input={"input": CODEX_PATCHES["update"]}, kind="edit", proposed=(2, 1)),
        dict(name="apply_patch", input={"input": CODEX_PATCHES["delete"]}, kind="edit", proposed=(0, 4),
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
# both with toolDenialKind "permission-rule" (rejected by C.3; "user-rejected" is written only
# when a person answers an interactive prompt, and a stream-json host's deny is "permission-rule"
# too). A deny rule naming a whole tool (settings `"deny": ["Edit"]`) removes the tool: the call
# gets "No such tool available: Edit" with is_error and no toolDenialKind, an error by C.3.
# `codex exec` forces approval_policy "never" (a person cannot refuse a call): its read-only
# sandbox blocks the writes instead, and the outputs ("patch rejected: writing is blocked by
# read-only sandbox; ...", exit 128) are errors by D.3. With `--approve-for-me` the shell
# steps ask to leave the sandbox and the automatic reviewer (a model call, answered by the
# stand-in) allows them, except `gh pr create`, which it denies: the
# denial arrives wrapped in the spawn error and counts as rejected (action-codex.c).
DENY_SETTINGS = json.dumps({"permissions": {"deny": ["Edit", "Bash(gh pr *)"]}})
RUNS = [
    ("claude", "claude-allowed", ["--allowedTools", "Read", "Write", "Edit", "Bash"], "AAAAAAEAAA"),
    ("claude", "claude-refused", ["--permission-prompts", "none", "--allowedTools", "Read", "Bash",
                                  "--disallowedTools", "Bash(gh *)"], "ARRREAEAAR"),
    ("claude", "claude-settings-deny", ["--permission-mode", "dontAsk", "--allowedTools", "Read", "Write",
                                        "Bash", "--settings", DENY_SETTINGS], "AAEAAAEAAR"),
    ("codex", "codex-allowed", ["--dangerously-bypass-approvals-and-sandbox"], "AAAAAEAAA"),
    ("codex", "codex-sandboxed", ["--sandbox", "read-only"], "EEEEEEAAE"),
    ("codex", "codex-reviewed", ["--approve-for-me"], "AAAAAEAAR"),
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
        script = scripted.Script(work, codex_steps(work, "--approve-for-me" in args))
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
    """The action record of a scripted call: what the workspace saw change (applied lines,
    commits), what the script proposed and how the tool decided (the spec's decision rules)."""
    kind = step["kind"]
    editing = kind in ("edit", "write")
    ok = decision == "accepted"
    applied = numstat(before, after) if ok and editing else (0, 0)
    name = step["name"]
    proposed = step.get("proposed", (0, 0))
    if step.get("delete") and not ok:
        proposed = (proposed[0], 0)  # the file's content is written only once it is deleted
    return {"tool": "claude-code" if tool == "claude" else "codex", "kind": kind, "tool_name": name,
            "target": "", "decision": decision, "lines_added": applied[0],
            "lines_removed": applied[1], "proposed_lines_added": proposed[0],
            "proposed_lines_removed": proposed[1],
            "file_ext": ("md" if step.get("delete") else "py") if editing else "",
            "commits": after["commits"] - before["commits"],
            "pull_requests": 1 if kind == "pull_request" and ok else 0, "in_subagent": False}


def check_run(agent, home, run, res):
    """Compares the scan of one run with the script and the workspace.
    Returns the mismatches."""
    tool, name, _, decisions = run
    work, script, tdir, ghlog = res
    out = agent_cmd(agent, home, tool, tdir, ["scan", "--format", "jsonl"])
    acts = [json.loads(line) for line in out.splitlines() if json.loads(line)["record"] == "action"]
    bad = []
    if len(acts) != len(script.steps):
        return ["%s: %d action records for %d scripted calls" % (name, len(acts), len(script.steps))]
    prs = len(open(ghlog).read().splitlines()) if os.path.exists(ghlog) else 0
    commits = script.seen[len(script.steps)]["commits"] - script.seen[0]["commits"]
    log("%-20s %-13s %-13s %-9s %-11s %-11s %-11s %s" % (
        name, "call", "kind", "decision", "lines +/-", "workspace", "proposed", "commits/prs"))
    for k, (step, rec) in enumerate(zip(script.steps, acts)):
        if set(rec) != FIELDS:
            bad.append("%s step %d: fields %s" % (name, k, sorted(set(rec) ^ FIELDS)))
        want = expected(tool, step, DECISIONS[decisions[k]], script.seen[k], script.seen[k + 1])
        ws = numstat(script.seen[k], script.seen[k + 1])
        log("%-20s %-13s %-13s %-9s %4d/%-6d %4d/%-6d %4d/%-6d %d/%d" % (
            "", "%d %s" % (k, step["name"]), rec["kind"], rec["decision"], rec["lines_added"],
            rec["lines_removed"], ws[0], ws[1], rec["proposed_lines_added"],
            rec["proposed_lines_removed"], rec["commits"], rec["pull_requests"]))
        for f, v in want.items():
            if rec.get(f) != v:
                bad.append(
                    "%s step %d (%s) %s: want %r, scanned %r" % (name, k, step["name"], f, v, rec.get(f)))
        if rec["decision"] != "accepted" and ws != (0, 0):
            bad.append("%s step %d: not accepted, yet the workspace changed %s" % (name, k, ws))
    got_c, got_p = sum(a["commits"] for a in acts), sum(a["pull_requests"] for a in acts)
    log("%-20s commits: repository %d, scan %d; pull requests: gh ran %d, scan %d" % (
        name, commits, got_c, prs, got_p))
    if (got_c, got_p) != (commits, prs):
        bad.append("%s: commits %d/%d, pull requests %d/%d (workspace/scan)" % (
            name, commits, got_c, prs, got_p))
    report = agent_cmd(agent, home, tool, tdir, ["report", "actions", "--json"])
    total = [r for r in json.loads(report) if r["by"] == "total"][0]
    sums = {f: sum(a[f] for a in acts) for f in ("commits", "pull_requests", "lines_added", "lines_removed")}
    sums.update({d: sum(1 for a in acts if a["decision"] == d) for d in DECISIONS.values()},
                calls=len(acts))
    bad += ["%s: report actions %s %d, the scan's records %d" % (name, f, total[f], v)
            for f, v in sums.items() if total[f] != v]
    leaked = [m for m in MARKERS + [home] if m in out or m in report]
    if leaked:
        bad.append("%s: text of the session in the scan or report output: %s" % (name, leaked))
    return bad


# Text of the scripted sessions (paths, commands, contents, commit messages, descriptions):
# none of it may be in the scan output.
MARKERS = ["AMRT", "m4rk3r", "--dry-run", "git log", "gh pr", "echo", "pull/7", "x = 2",
           standin.SECRET_PROMPT, standin.SECRET_REPLY]


def main():
    agent = os.path.abspath(sys.argv[1])
    t0 = time.monotonic()
    bindir = realtools.install_tools()
    log("testing " + ", ".join("%s@%s" % kv for kv in realtools.tool_versions(bindir).items()))
    home = tempfile.mkdtemp(prefix="am-rtactions-")
    ledger = standin.Ledger()
    servers = {"claude": standin.serve(scripted.ScriptedAnthropic, ledger)[0],
               "codex": standin.serve(scripted.ScriptedOpenAI, ledger)[0]}
    try:
        bad, runs = [], RUNS
        for run in runs:
            bad += check_run(agent, home, run, session(bindir, home, servers, run[0], run[1], run[2]))
        for b in bad:
            print("MISMATCH " + b)
        assert not bad, "%d mismatches between the scan, the script and the workspace" % len(bad)
        log("exact: %d scripted sessions, %d calls, in %.1f s" % (
            len(runs), sum(len(r[3]) for r in runs), time.monotonic() - t0))
    finally:
        realtools.finish(servers.values(), home)


if __name__ == "__main__":
    main()
