#!/usr/bin/env python3
"""versus-ccusage.py AGENT [WORKDIR]: each tool's totals from the truth, aimeter and ccusage.

For every tool the project generates logs for (tests/gen/), writes one set of
files, and prints the generator's truth beside `aimeter-agent scan` and
`ccusage <tool> daily --json` (20.0.24, pinned; installed into
~/.cache/aimeter-ccusage on first use) over the very same files, UTC days.

Fails only when aimeter differs from the truth (the exactness tests assert
that per model and day; this prints totals for the closing note). ccusage's
figures are information: where it counts differently, the table says so.

Conventions differ between readers, so the columns are the common ground:
input (never counting cache reads), output (reasoning included where the
tool bills it inside output), cache read, cache write (5m + 1h), and the
number of (day, model) cells where the reader equals the truth on all four.
"""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "gen")
CCUSAGE_VERSION = "20.0.24"
CACHE = os.path.expanduser("~/.cache/aimeter-ccusage")

# tool, generator, its output subdirectory, agent flag, ccusage command, ccusage's variable
TOOLS = [
    ("claude-code", "gen-logs", "claude", "--claude-dir", "claude", "CLAUDE_CONFIG_DIR"),
    ("codex", "gen-logs", "codex", "--codex-dir", "codex", "CODEX_HOME"),
    ("gemini-cli", "gen-gemini-cli", "gemini", "--gemini-dir", "gemini", "GEMINI_DATA_DIR"),
    ("qwen-code", "gen-qwen-code", "qwen", "--qwen-dir", "qwen", "QWEN_DATA_DIR"),
    ("copilot-cli", "gen-copilot-cli", "copilot", "--copilot-dir", "copilot", "COPILOT_HOME"),
    ("amp", "gen-amp", "amp", "--amp-dir", "amp", "AMP_DATA_DIR"),
]
COLS = ("input", "output", "cache_read", "cache_write")


def ccusage_exe():
    exe = os.path.join(CACHE, "node_modules", ".bin", "ccusage")
    if not os.path.exists(exe):
        subprocess.run(["npm", "install", "--silent", "--prefix", CACHE,
                        "ccusage@" + CCUSAGE_VERSION], check=True)
    return exe


def truth_cells(path, tool):
    cells = collections.defaultdict(lambda: dict.fromkeys(COLS, 0))
    for r in json.load(open(path))["rows"]:
        if r["tool"] != tool:
            continue
        c = cells[(r["day"], r["model"])]
        c["input"] += r["input"]
        c["output"] += r["output"]
        c["cache_read"] += r["cache_read"]
        c["cache_write"] += r["cache_write_5m"] + r["cache_write_1h"]
    return cells


def agent_cells(agent, flag, root, tool, env):
    p = subprocess.run([agent, "scan", "--format", "jsonl", "--user", "dana@example.com",
                        flag, root], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=True, text=True)
    cells = collections.defaultdict(lambda: dict.fromkeys(COLS, 0))
    for line in p.stdout.splitlines():
        e = json.loads(line)
        if e.get("record", "usage") != "usage" or e["tool"] != tool:
            continue
        c = cells[(e["ts"][:10], e["model"])]
        c["input"] += e["input_tokens"]
        c["output"] += e["output_tokens"]
        c["cache_read"] += e["cache_read_tokens"]
        c["cache_write"] += e["cache_write_5m_tokens"] + e["cache_write_1h_tokens"]
    return cells


def ccusage_cells(exe, command, var, root, env):
    p = subprocess.run([exe, command, "daily", "--json", "--offline"],
                       env=dict(env, **{var: root}), stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True, timeout=600)
    cells = collections.defaultdict(lambda: dict.fromkeys(COLS, 0))
    if p.returncode != 0:
        return None
    for day in json.loads(p.stdout).get("daily", []):
        models = day.get("modelBreakdowns")
        if models is None:  # `ccusage codex`: a map from model name to its figures
            models = [dict(m, modelName=n) for n, m in (day.get("models") or {}).items()]
        for m in models:
            c = cells[(day["date"], m["modelName"])]
            c["input"] += m.get("inputTokens", 0)
            c["output"] += m.get("outputTokens", 0)
            c["cache_read"] += m.get("cacheReadTokens", 0)
            c["cache_write"] += m.get("cacheCreationTokens", 0)
    return cells


def totals(cells):
    t = dict.fromkeys(COLS, 0)
    for c in cells.values():
        for k in COLS:
            t[k] += c[k]
    return t


def exact_cells(cells, truth):
    return sum(1 for k, c in truth.items() if cells.get(k) == c)


def main():
    agent = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="am-vs-ccusage-")
    env = dict(os.environ, TZ="UTC", AIMETER_STATE_DIR=os.path.join(work, "state"))
    exe = ccusage_exe()
    failed = []
    print("%-12s %-9s %12s %12s %12s %12s %s" % ("tool", "reader", *COLS, "exact (day, model) cells"))
    for tool, gen, sub, flag, command, var in TOOLS:
        out = os.path.join(work, gen)
        if not os.path.isdir(out):
            subprocess.run([sys.executable, os.path.join(GEN, gen), out, "--seed", "11"],
                           check=True, stdout=subprocess.DEVNULL)
        root = os.path.join(out, sub)
        truth = truth_cells(os.path.join(out, "truth.json"), tool)
        mine = agent_cells(agent, flag, root, tool, env)
        theirs = ccusage_cells(exe, command, var, root, env)
        for name, cells in (("truth", truth), ("aimeter", mine), ("ccusage", theirs)):
            if cells is None:
                print("%-12s %-9s %s" % (tool, name, "failed to run"))
                continue
            t = totals(cells)
            print("%-12s %-9s %12d %12d %12d %12d %d of %d" % (
                tool, name, *(t[k] for k in COLS), exact_cells(cells, truth), len(truth)))
        if dict(mine) != dict(truth):
            failed.append(tool)
    if failed:
        print("aimeter differs from the truth for: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
