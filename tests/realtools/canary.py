#!/usr/bin/env python3
"""canary.py TOOL: a real AI tool's own files record exactly what its model API billed.

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
"""
import collections
import importlib
import os
import shutil
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


def main():
    tool = sys.argv[1]
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
        for name, records, holds in mod.read(root, home):
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
