#!/usr/bin/env python3
"""canary.py TOOL [AGENT]: a real AI tool's own files record exactly what its model API billed.

The format canary for the tools the agent does not read yet (gemini-cli, qwen-code,
opencode, copilot-cli). It installs the pinned tool with realtools.py's cache (or the
latest release with AM_REALTOOLS_LATEST=1), runs it headless against a loopback stand-in
(standin.py) in new, resumed or continued sessions, on two models, with a shell tool
round trip and a sub-agent, then reads the files the tool wrote with a small reader made
from docs/tool-formats.md (canary_<tool>.py) and checks that the usage recorded there
equals what the stand-in billed, per model and UTC day. A release that changes the format
fails here loudly. Calls the tool is known not to record (docs/tool-formats.md) are listed
and must be exactly those. AM_REALTOOLS_KEEP=1 keeps the temporary HOME to study it;
AM_REALTOOLS_FIXTURES=DIR writes the files the tool wrote, sanitized, to DIR/<tool>
(tests/fixtures/<tool> was made so).

With AGENT (aimeter-agent), for a tool the agent reads (its canary module has
agent_args), `AGENT scan --format jsonl` over what the tool wrote is one more reader that
must equal the bills, and no text of the scripted conversation may be in its output.
"""
import collections
import importlib
import os
import json
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import realtools  # noqa: E402
import sanitize  # noqa: E402
import standin  # noqa: E402

TOOLS = {"gemini-cli": "canary_gemini", "qwen-code": "canary_qwen", "opencode": "canary_opencode",
         "copilot-cli": "canary_copilot"}
FIELDS = ["events", "input", "output", "cache_read", "cache_write_5m", "reasoning"]


def totals(records, key):
    out = collections.defaultdict(collections.Counter)
    for r in records:
        t = out[key(r)]
        t["events"] += 1
        for f in FIELDS[1:]:
            t[f] += r.get(f, 0)
        # These tools do not split cache writes by TTL: all of them count as 5-minute writes.
        t["cache_write_5m"] += r.get("cache_write_1h", 0)
    return out


def compare(name, billed, recorded):
    """Prints billed/recorded per model and UTC day; returns the mismatches."""
    want = totals(billed, lambda c: (c["day"], c["model"]))
    got = totals(recorded, lambda r: (r["day"], r["model"]))
    bad = []
    for k in sorted(set(want) | set(got)):
        realtools.log("%-12s %-34s %s" % (name, " ".join(k), "  ".join(
            "%s %d/%d" % (f, want[k][f], got[k][f]) for f in FIELDS)))
        bad += ["%s %s %s: billed %d, recorded %d" % (name, " ".join(k), f, want[k][f], got[k][f])
                for f in FIELDS if want[k][f] != got[k][f]]
    return bad


def agent_scan(agent, tool, args, home):
    """The agent's events of tool over what the tool wrote, as canary records."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMETER_")}
    env.update(HOME=home, TZ="UTC", AIMETER_STATE_DIR=os.path.join(home, "aimeter-state"))
    p = subprocess.run([agent, "scan", "--format", "jsonl", "--user", "rt@example.com"] + args,
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        raise SystemExit("scan failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace")))
    out = p.stdout.decode()
    leaked = [m for m in (standin.SECRET_PROMPT, standin.SECRET_REPLY, "AMRT-", home) if m in out]
    assert not leaked, "text from the conversation is in the scan output: %s" % leaked
    recs = []
    for line in out.splitlines():
        e = json.loads(line)
        if e["tool"] == tool and e["record"] == "usage":
            recs.append({"model": e["model"], "day": e["ts"][:10], "input": e["input_tokens"],
                         "output": e["output_tokens"], "cache_read": e["cache_read_tokens"],
                         "cache_write_5m": e["cache_write_5m_tokens"],
                         "cache_write_1h": e["cache_write_1h_tokens"],
                         "reasoning": e["reasoning_tokens"]})
    return recs


def main():
    tool = sys.argv[1]
    agent = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
    mod = importlib.import_module(TOOLS[tool])
    t0 = time.monotonic()
    bindir = realtools.install_tools()
    version = realtools.package_version(bindir, mod.PACKAGE)
    realtools.log("testing %s@%s" % (mod.PACKAGE, version))
    home = tempfile.mkdtemp(prefix="am-canary-")
    ledger = standin.Ledger()
    srv, port = standin.serve(mod.HANDLER, ledger, **mod.HANDLER_ATTRS)
    try:
        root = mod.scenarios(bindir, home, port, ledger)
        if ledger.unbilled:
            realtools.log("answered without billing: %s" % sorted(set(ledger.unbilled)))
        unrecorded = [c for c in ledger.calls if mod.unrecorded(c)]
        for c in unrecorded:
            realtools.log("billed, not in the tool's files (%s): call %d %s" % (
                mod.unrecorded(c), c["n"], c["model"]))
        billed = [c for c in ledger.calls if not mod.unrecorded(c)]
        bad = []
        readers = list(mod.read(root, home))
        if agent is not None and hasattr(mod, "agent_args"):
            readers.append(("agent scan", agent_scan(agent, tool, mod.agent_args(root, home), home),
                            lambda c: True))
        for name, records, holds in readers:
            bad += compare(name, [c for c in billed if holds(c)], records)
        for b in bad:
            print("MISMATCH " + b)
        assert not bad, "%d mismatches between %s's files and the bills" % (len(bad), tool)
        if os.environ.get("AM_REALTOOLS_FIXTURES"):
            out = os.path.join(os.environ["AM_REALTOOLS_FIXTURES"], tool)
            sanitize.export(home, home, out, mod.fixture)
            realtools.log("sample files written to " + out)
        realtools.log("exact: %d billed calls (%d known unrecorded) equal %s@%s's files in %.1f s" % (
            len(ledger.calls), len(unrecorded), mod.PACKAGE, version, time.monotonic() - t0))
    finally:
        srv.shutdown()
        if os.environ.get("AM_REALTOOLS_KEEP") == "1":
            realtools.log("kept " + home)
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
