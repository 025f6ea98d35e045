#!/usr/bin/env python3
"""realtools.py AGENT: the real AI tools' transcripts, scanned, equal what their model APIs billed.

1. Installs the pinned tools of package-lock.json (Claude Code, Codex CLI and the tools
   canary.py tests) into a cache directory outside the repo (reused while the lock is
   unchanged). AM_REALTOOLS_LATEST=1 installs the latest release of each instead, into its
   own cache directory.
2. Starts loopback stand-ins for the Anthropic Messages API and the OpenAI Responses API
   (standin.py) that stream scripted replies with known usage and record what they billed.
3. Runs each tool headless in a temporary HOME: Claude Code (`claude -p`) in a new session,
   a resumed one, a continued one with another model, a forked one, a Bash tool round trip
   and a sub-agent (Agent tool); Codex (`codex exec`) in a new session, a resumed one, one on
   another model, one at the priority tier, a shell tool round trip and a sub-agent spawned
   with the parent's context. Replies carry thinking blocks, cache writes (5m and 1h; Codex:
   input_tokens_details.cache_write_tokens), cache reads and web searches; the Codex stand-in
   bills the service tier each request carried, and the scan's priority events must match.
4. Runs `aimeter-agent scan --format jsonl` over the files the tools wrote and compares
   events and every token bucket per tool, model and UTC day with the servers' bills.
5. Checks that no prompt or reply text of the scripted conversation is in the scan output.
Any install or run failure is a test failure, never a skip.
"""
import collections
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import standin  # noqa: E402

PACKAGES = {"claude": "@anthropic-ai/claude-code", "codex": "@openai/codex"}
BUCKETS = [("input", "input_tokens"), ("output", "output_tokens"),
           ("cache_write_5m", "cache_write_5m_tokens"), ("cache_write_1h", "cache_write_1h_tokens"),
           ("cache_read", "cache_read_tokens"), ("reasoning", "reasoning_tokens"),
           ("web_search", "web_search_requests")]
CLAUDE_MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-haiku-4-5-20251001"]
CODEX_MODELS = ["gpt-5.1-codex", "gpt-5.2"]
RUN_TIMEOUT = 180


def log(msg):
    print("realtools: " + msg, flush=True)


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aimeter-realtools")


def npm(args, cwd):
    p = subprocess.run(["npm", "--no-audit", "--no-fund", "--loglevel=error"] + args, cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    if p.returncode != 0:
        raise SystemExit("npm %s failed (%d):\n%s" % (" ".join(args), p.returncode,
                                                      p.stdout.decode(errors="replace")[-3000:]))


def install_tools(src=HERE, prefix="pinned-"):
    """Returns the node_modules/.bin directory holding every package of src's package.json
    (this directory's tools by default; tests/otlp-sdk pins the OpenTelemetry SDK)."""
    if shutil.which("npm") is None:
        raise SystemExit("npm not found: install nodejs and npm (tests/deps.txt)")
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    if os.environ.get("AM_REALTOOLS_LATEST") == "1":
        # Always asks the registry, so a new release is tested the day it ships.
        d = os.path.join(root, "latest" + ("" if src == HERE else "-" + os.path.basename(src)))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "package.json"), "w") as f:
            json.dump({"name": "aimeter-realtools-latest", "private": True, "version": "0.0.0"}, f)
        with open(os.path.join(src, "package.json")) as f:
            names = sorted(json.load(f)["dependencies"])
        npm(["install"] + [p + "@latest" for p in names], d)
        return os.path.join(d, "node_modules", ".bin")
    lock = open(os.path.join(src, "package-lock.json"), "rb").read()
    spec = open(os.path.join(src, "package.json"), "rb").read()
    d = os.path.join(root, prefix + hashlib.sha256(spec + lock).hexdigest()[:16])
    if not os.path.exists(os.path.join(d, ".complete")):
        # Installed beside the final place and renamed, so an interrupted install is never reused.
        tmp = tempfile.mkdtemp(prefix="install-", dir=root)
        shutil.copy(os.path.join(src, "package.json"), tmp)
        shutil.copy(os.path.join(src, "package-lock.json"), tmp)
        t = time.monotonic()
        # Not `npm ci`: it refuses this lock, since @qwen-code/qwen-code names optional
        # platform packages (@teddyzhu/clipboard-*) that do not exist on the registry.
        # `npm install` follows the lock; the versions are checked against the pins below.
        npm(["install"], tmp)
        with open(os.path.join(tmp, "package.json")) as f:
            pins = json.load(f)["dependencies"]
        mods = os.path.join(tmp, "node_modules", ".bin")
        wrong = {p: package_version(mods, p) for p in pins if package_version(mods, p) != pins[p]}
        if wrong:
            raise SystemExit("npm installed other versions than pinned: %s" % wrong)
        open(os.path.join(tmp, ".complete"), "w").close()
        shutil.rmtree(d, ignore_errors=True)
        os.rename(tmp, d)
        log("installed the pinned tools into %s in %.1f s" % (d, time.monotonic() - t))
    return os.path.join(d, "node_modules", ".bin")


def package_version(bindir, pkg):
    with open(os.path.join(os.path.dirname(bindir), pkg, "package.json")) as f:
        return json.load(f)["version"]


def tool_versions(bindir):
    mods = os.path.dirname(bindir)
    out = {}
    for short, pkg in PACKAGES.items():
        with open(os.path.join(mods, pkg, "package.json")) as f:
            out[pkg] = json.load(f)["version"]
    return out


def run(argv, env, cwd, what):
    t = time.monotonic()
    p = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
    secs = time.monotonic() - t
    if p.returncode != 0:
        raise SystemExit("%s failed (%d) after %.1f s:\nstdout: %s\nstderr: %s" % (
            what, p.returncode, secs, p.stdout.decode(errors="replace")[-2000:],
            p.stderr.decode(errors="replace")[-2000:]))
    log("%-34s %5.1f s" % (what, secs))
    return p.stdout.decode(errors="replace")


def base_env(home):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "TZ": "UTC",
           "LANG": "C.UTF-8", "TMPDIR": os.path.join(home, "tmp")}
    os.makedirs(env["TMPDIR"], exist_ok=True)
    return env


def claude_env(env, cfg, port):
    """env for Claude Code writing under cfg, talking to the Messages API stand-in at port."""
    env.update({"CLAUDE_CONFIG_DIR": cfg, "ANTHROPIC_BASE_URL": "http://127.0.0.1:%d" % port,
                "ANTHROPIC_API_KEY": "sk-ant-amrt-dummy", "DISABLE_AUTOUPDATER": "1",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
                "DISABLE_ERROR_REPORTING": "1", "DISABLE_BUG_COMMAND": "1",
                "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1"})
    return env


def claude_scenarios(bindir, home, port, ledger):
    """Claude Code against the Messages API stand-in; returns CLAUDE_CONFIG_DIR."""
    cfg = os.path.join(home, ".claude")
    work = os.path.join(home, "claude-project")
    os.makedirs(work)
    env = claude_env(base_env(home), cfg, port)
    claude = os.path.join(bindir, "claude")
    p = standin.SECRET_PROMPT

    def go(what, prompt, *args):
        out = run([claude, "-p", prompt, "--output-format", "json"] + list(args), env, work,
                  "claude " + what)
        return json.loads(out.strip().splitlines()[-1])

    first = go("new session", p + " say hi", "--model", CLAUDE_MODELS[0])
    sid = first["session_id"]
    go("resumed session", p + " once more", "--resume", sid, "--model", CLAUDE_MODELS[0])
    go("continued, other model", p + " and again", "-c", "--model", CLAUDE_MODELS[1])
    go("forked session", p + " a fork", "--resume", sid, "--fork-session", "--model", CLAUDE_MODELS[2])
    n = len(ledger.calls)
    go("Bash tool round trip", p + " AMRT-TOOL run it", "--model", CLAUDE_MODELS[1],
       "--allowedTools", "Bash")
    replies = [c["reply"] for c in ledger.calls[n:]]
    assert "tool_use" in replies and len(replies) >= 2, "no Bash round trip: %s" % replies
    n = len(ledger.calls)
    go("sub-agent", p + " AMRT-TASK delegate it", "--model", CLAUDE_MODELS[1],
       "--allowedTools", "Agent", "Task")
    assert any(c["sub"] for c in ledger.calls[n:]), "the sub-agent made no model call"
    found = [f for _, _, fs in os.walk(cfg) for f in fs if f.startswith("agent-") and f.endswith(".jsonl")]
    assert found, "Claude Code wrote no sub-agent transcript"
    return cfg


def codex_scenarios(bindir, home, port, ledger):
    """Codex CLI against the Responses API stand-in; returns CODEX_HOME."""
    ch = os.path.join(home, ".codex")
    work = os.path.join(home, "codex-project")
    os.makedirs(ch)
    os.makedirs(work)
    with open(os.path.join(ch, "config.toml"), "w") as f:
        f.write('model = "%s"\nmodel_provider = "amrt"\n'
                'check_for_update_on_startup = false\n\n'
                '[analytics]\nenabled = false\n\n'
                '[model_providers.amrt]\nname = "aimeter stand-in"\n'
                'base_url = "http://127.0.0.1:%d/v1"\nwire_api = "responses"\n'
                'env_key = "AMRT_OPENAI_KEY"\n' % (CODEX_MODELS[0], port))
    env = base_env(home)
    env.update({"CODEX_HOME": ch, "AMRT_OPENAI_KEY": "sk-amrt-dummy"})
    codex = [os.path.join(bindir, "codex"), "exec", "--skip-git-repo-check"]
    p = standin.SECRET_PROMPT
    run(codex + [p + " say hi"], env, work, "codex new session")
    run(codex + ["resume", "--last", p + " once more"], env, work, "codex resumed session")
    run(codex + ["-m", CODEX_MODELS[1], p + " other model"], env, work, "codex other model")
    # the priority tier ("fast" in the configuration): sent only for models that advertise it
    run(codex + ["-m", "gpt-5.5", "-c", 'service_tier="fast"', p + " priority tier"], env, work,
        "codex priority tier")
    assert any(c.get("service_tier") == "priority" for c in ledger.calls), \
        "Codex sent no priority request"
    n = len(ledger.calls)
    run(codex + [p + " AMRT-TOOL run it"], env, work, "codex shell tool round trip")
    replies = [c["reply"] for c in ledger.calls[n:]]
    assert replies == ["tool_use", "after_tool"], "no shell round trip: %s" % replies
    n = len(ledger.calls)
    run(codex + [p + " AMRT-SPAWN delegate it"], env, work, "codex sub-agent (forked context)")
    assert any(c["sub"] for c in ledger.calls[n:]), "the Codex sub-agent made no model call"
    return ch


def scan(agent, home, claude_dir, codex_dir):
    env = dict(os.environ, HOME=home, TZ="UTC", AIMETER_STATE_DIR=os.path.join(home, "aimeter-state"))
    for k in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "AIMETER_CLAUDE_DIRS", "AIMETER_CODEX_DIRS"):
        env.pop(k, None)
    p = subprocess.run([agent, "scan", "--format", "jsonl", "--user", "rt@example.com",
                        "--claude-dir", claude_dir, "--codex-dir", codex_dir],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        raise SystemExit("scan failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout.decode()


def compare(out, ledger):
    got = collections.defaultdict(collections.Counter)
    for line in out.splitlines():
        e = json.loads(line)
        if e["record"] != "usage":
            continue  # action records beside the usage events
        g = got[(e["tool"], e["ts"][:10], e["model"])]
        g["events"] += 1
        g["priority"] += e["service_tier"] == "priority"
        for a, b in BUCKETS:
            g[a] += e[b]
    want = collections.defaultdict(collections.Counter)
    for c in ledger.calls:
        w = want[(c["tool"], c["day"], c["model"])]
        w["events"] += 1
        w["priority"] += c.get("service_tier") == "priority"
        for a, _ in BUCKETS:
            w[a] += c.get(a, 0)
    bad = []
    fields = ["events", "priority"] + [a for a, _ in BUCKETS]
    log("%-46s %s" % ("tool / day / model", "  ".join("%s billed/scanned" % f for f in fields[:1])))
    for k in sorted(set(want) | set(got)):
        log("%-46s %s" % (" ".join(k), "  ".join(
            "%s %d/%d" % (f, want[k][f], got[k][f]) for f in fields)))
        for f in fields:
            if want[k][f] != got[k][f]:
                bad.append("%s %s: billed %d, scanned %d" % (" ".join(k), f, want[k][f], got[k][f]))
    return bad


def finish(servers, home):
    """Stops the stand-ins; removes the temporary HOME unless AM_REALTOOLS_KEEP=1."""
    for s in servers:
        s.shutdown()
    if os.environ.get("AM_REALTOOLS_KEEP") == "1":
        log("kept " + home)
    else:
        shutil.rmtree(home, ignore_errors=True)


def main():
    agent = os.path.abspath(sys.argv[1])
    t0 = time.monotonic()
    bindir = install_tools()
    versions = tool_versions(bindir)
    log("testing " + ", ".join("%s@%s" % kv for kv in versions.items()))
    home = tempfile.mkdtemp(prefix="am-realtools-")
    ledger = standin.Ledger()
    servers = []
    try:
        a_srv, a_port = standin.serve(standin.AnthropicHandler, ledger)
        o_srv, o_port = standin.serve(standin.OpenAIHandler, ledger)
        servers = [a_srv, o_srv]
        claude_dir = claude_scenarios(bindir, home, a_port, ledger)
        codex_dir = codex_scenarios(bindir, home, o_port, ledger)
        if ledger.unbilled:
            log("answered without billing (or noted): %s" % sorted(set(ledger.unbilled)))
        out = scan(agent, home, claude_dir, codex_dir)
        bad = compare(out, ledger)
        for b in bad:
            print("MISMATCH " + b)
        leaked = [m for m in (standin.SECRET_PROMPT, standin.SECRET_REPLY, "AMRT-", "echo hi", home)
                  if m in out]
        assert not leaked, "text from the conversation is in the scan output: %s" % leaked
        assert not bad, "%d mismatches between what the tools wrote and what was billed" % len(bad)
        log("exact: %d billed calls equal the scan for %s in %.1f s" % (
            len(ledger.calls), ", ".join("%s@%s" % kv for kv in versions.items()),
            time.monotonic() - t0))
    finally:
        finish(servers, home)


if __name__ == "__main__":
    main()
