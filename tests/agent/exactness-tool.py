#!/usr/bin/env python3
"""exactness-tool.py AGENT GEN TOOL: a tool's events equal its generator's truth exactly.

For the tools with their own generator (TOOLS below: GitHub Copilot CLI, gen-copilot-cli;
Amp, gen-amp):
1. Runs the generator into a fresh directory and asserts every decided case occurs in
   what it wrote.
2. `aimeter-agent scan --format jsonl` over the generated root: events and every token
   bucket per tool, model and UTC day equal the truth, and so do the events per billing
   mode (Copilot: BYOK calls "api", Copilot-hosted ones "subscription"; Amp: "api").
3. Privacy: none of the text planted in prompts, replies, reasoning, tool output and
   working directories is in the scan output, in collect's output or in its state.
4. Every model the generator names is in the price book (`report daily --json`: nothing
   unpriced; Copilot's premium requests are valued at API list prices, as the spec decides).
5. `collect` over the same files changing (each cut at a random byte, then completed: a
   resumed session appended to, a thread document rewritten whole; first through the
   versions a generator's stages.json lists, as the tool rewrote a document in place)
   gives exactly the events of one scan, ids and every field included.
"""
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

MAP = [("input", "input_tokens"), ("output", "output_tokens"), ("cache_write_5m", "cache_write_5m_tokens"),
       ("cache_write_1h", "cache_write_1h_tokens"), ("cache_read", "cache_read_tokens"),
       ("reasoning", "reasoning_tokens"), ("web_search", "web_search_requests")]
# tool: (the generator's root directory, the agent's option, the cases it must write, the files it reads)
TOOLS = {
    "copilot-cli": ("copilot", "--copilot-dir",
                    ["call_byok", "call_subscription", "sub_agent_call", "resumed_session",
                     "model_change", "midnight", "null_fields", "not_usage", "invalid_lines",
                     "duplicate_line", "copied_session", "torn_last_line", "usage_text_in_string",
                     "shutdown_sums"],
                    lambda n: n == "events.jsonl"),
    "amp": ("amp", "--amp-dir",
            ["ledger_thread", "ledger_event", "message_usage", "usage_null", "usage_zero",
             "total_only", "streaming", "message_timestamp", "midnight", "model_change",
             "copied_thread", "half_written", "pretty", "compact", "usage_text_in_string"],
            lambda n: n.endswith(".json")),
    "gemini-cli": ("gemini", "--gemini-dir",
                   ["checkpoint_start", "message_reappended", "tokens_null_then_set", "tokens_null",
                    "zero_tokens", "model_missing", "fields_missing", "checkpoint_only_message",
                    "checkpoint_drops", "rewind", "resumed", "sub_agent", "copied_session",
                    "midnight", "model_change", "usage_text_in_string", "invalid_lines",
                    "torn_last_line", "legacy_session", "legacy_torn_write", "legacy_nulls",
                    "legacy_tokens_null_then_set", "legacy_resumed_jsonl", "legacy_rewind",
                    "legacy_copied", "legacy_sub_agent"],
                   lambda n: n.endswith(".jsonl") or (n.endswith(".json") and n not in (
                       "settings.json", "logs.json") and not n.startswith("checkpoint-"))),
    "qwen-code": ("qwen", "--qwen-dir",
                  ["openai_compatible", "gemini_native", "null_fields", "zero_counts", "memory_extractor",
                   "subagent_call", "continued", "model_change", "midnight", "compression_rewind",
                   "branch_copy", "usage_text_in_string", "invalid_lines", "torn_last_line"],
                  lambda n: n.endswith(".jsonl")),
}


def run_agent(agent, work, *args):
    env = dict(os.environ, TZ="UTC", HOME=work)
    for k in list(env):
        if k.startswith("AIMETER_") or k in ("COPILOT_HOME", "AMP_DATA_DIR", "CLAUDE_CONFIG_DIR",
                                             "CODEX_HOME"):
            del env[k]
    # one project key for scan and collect, so that their project labels compare
    env["AIMETER_PROJECT_KEY_FILE"] = os.path.join(work, "project.key")
    p = subprocess.run([agent] + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0, "%s exit %d: %s" % (args[0], p.returncode, p.stderr.decode())
    return p.stdout.decode(), p.stderr.decode()


def events(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def check_totals(tool, evs, truth, billing):
    got = collections.defaultdict(collections.Counter)
    modes = collections.Counter()
    for e in evs:
        assert e["tool"] == tool, e["tool"]
        assert "/" not in e["project"] and "/" not in e["session"], "raw path emitted"
        g = got[(e["tool"], e["ts"][:10], e["model"])]
        g["events"] += 1
        for a, b in MAP:
            g[a] += e[b]
        modes[e["billing_mode"]] += 1
    pairs = [(k, f, truth.get(k, {}).get(f, 0), got.get(k, {}).get(f, 0))
             for k in sorted(set(truth) | set(got)) for f in ["events"] + [m[0] for m in MAP]]
    bad = ["%s %s: truth %d, agent %d" % p for p in pairs if p[2] != p[3]]
    if dict(modes) != {k: v for k, v in billing.items() if v}:
        bad.append("billing modes: truth %s, agent %s" % (billing, dict(modes)))
    for b in bad[:20]:
        print("MISMATCH", b)
    assert not bad, "%d mismatches" % len(bad)


def no_markers(what, blob, marks):
    leaked = [m for m in marks.values() if m.encode() in blob]
    assert not leaked, "text from the tool's files in %s: %s" % (what, leaked)


def generate(gen, work, required):
    """Runs the generator into work/logs, asserts it wrote every required case; returns the
    logs dir, the truth by (tool, day, model), truth.json and the planted markers."""
    logs = os.path.join(work, "logs")
    subprocess.run([sys.executable, gen, logs], check=True, stdout=subprocess.DEVNULL)
    cases = json.load(open(os.path.join(logs, "cases.json")))
    missing = [c for c in required if cases.get(c, 0) < 1]
    assert not missing, "generator did not write these cases: %s" % missing
    t = json.load(open(os.path.join(logs, "truth.json")))
    truth = {(r["tool"], r["day"], r["model"]): r for r in t["rows"]}
    return logs, truth, t, json.load(open(os.path.join(logs, "markers.json")))


def same_events(what, want, got):
    """got (collect's events, any order) equals want (a scan's), ids and every field."""
    key = lambda e: e["event_id"]  # noqa: E731
    want, got = sorted(want, key=key), sorted(got, key=key)
    if got != want:
        a, b = {key(e): e for e in want}, {key(e): e for e in got}
        diff = [(i, a.get(i), b.get(i)) for i in sorted(set(a) | set(b)) if a.get(i) != b.get(i)]
        for d in diff[:5]:
            print("DIFF", d)
        raise AssertionError("%s: %d events, scan %d, %d differ" % (what, len(got), len(want), len(diff)))


def stages(data, rnd):
    """What a file looked like as it grew: cut at a random byte; a thread document (a JSON
    object with messages) also rewritten whole with its first messages only; then all."""
    out = [data[: rnd.randint(0, len(data))]]
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        k = rnd.randint(0, len(doc["messages"]))
        doc["messages"] = doc["messages"][:k]
        ids = {m.get("messageId") for m in doc["messages"]}
        if isinstance(doc.get("usageLedger"), dict):
            doc["usageLedger"]["events"] = [e for e in doc["usageLedger"]["events"]
                                            if e.get("toMessageId") in ids]
        out.append(json.dumps(doc, ensure_ascii=False).encode())
    return out + [data]


def grow(src, dst, rnd, wanted, written):
    """Copies src to dst with every file the agent reads at its first stage; returns the stages.
    written: {path below src: [versions]}, what the tool wrote before the final file (the
    generator's stages.json: a document rewritten in place), read through first."""
    shutil.copytree(src, dst)
    st = {}
    for d, _, files in os.walk(dst):
        for n in files:
            if wanted(n):
                p = os.path.join(d, n)
                before = [v.encode() for v in written.get(os.path.relpath(p, dst), [])]
                st[p] = before + stages(open(p, "rb").read(), rnd)
    return st


def main():
    agent, gen, tool = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    dirname, option, required, wanted = TOOLS[tool]
    work = tempfile.mkdtemp(prefix="am-exact-%s-" % tool)
    try:
        logs, truth, t, marks = generate(gen, work, required)
        root = os.path.join(logs, dirname)
        blob = b"".join(open(os.path.join(d, n), "rb").read() for d, _, fs in os.walk(root) for n in fs)
        assert all(m.encode() in blob for m in marks.values()), "markers not planted"

        out, _ = run_agent(agent, work, "scan", "--format", "jsonl", "--user", "dana@example.com",
                           option, root)
        scanned = events(out)
        check_totals(tool, scanned, truth, t["billing"])
        assert len({e["event_id"] for e in scanned}) == len(scanned), "duplicate event ids"
        no_markers("the scan output", out.encode(), marks)
        print("exact: %d events in %d (tool, day, model) rows match the truth in every bucket; "
              "billing %s" % (len(scanned), len(truth), t["billing"]))

        rep, _ = run_agent(agent, work, "report", "daily", "--json", option, root)
        unpriced = {m for r in json.loads(rep)["rows"] for m in r["unpriced_models"]}
        assert not unpriced, "models without a price: %s" % sorted(unpriced)

        rnd = random.Random(5)
        inc = os.path.join(work, "inc")
        sp = os.path.join(logs, "stages.json")
        st = grow(root, inc, rnd, wanted, json.load(open(sp)) if os.path.exists(sp) else {})
        state = os.path.join(work, "state")
        got = []
        for i in range(max(len(v) for v in st.values())):
            for p, v in st.items():
                open(p, "wb").write(v[min(i, len(v) - 1)])
            o, _ = run_agent(agent, work, "collect", "--state-dir", state, "--settle", "0",
                             "--user", "dana@example.com", option, inc)
            got += events(o)
            no_markers("collect's output", o.encode(), marks)
        same_events("collect over growing files", scanned, got)
        sblob = b"".join(open(os.path.join(d, n), "rb").read() for d, _, fs in os.walk(state) for n in fs)
        no_markers("collect's state", sblob, marks)
        assert inc.encode() not in sblob, "a log path in collect's state"
        print("collect, one pass per stage of the files growing, equals the scan: %d events; "
              "no planted text in any output or state" % len(got))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
