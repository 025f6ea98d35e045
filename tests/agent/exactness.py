#!/usr/bin/env python3
"""exactness.py AGENT GEN [WORKDIR]: the agent's totals equal the generator's truth exactly.

1. Runs the project's log generator (tests/gen/gen-logs) into a fresh directory.
2. Asserts that every decided case occurs at least once in what it wrote.
3. Runs `aimeter-agent scan --format jsonl` on the logs and sums events and every
   token bucket per tool, model and UTC day: they must equal the truth exactly.
4. Checks the JSONL contract (every field present, types, no raw paths).
5. When ccusage is installed, reports how far `ccusage claude session` and
   `ccusage codex daily` are from the truth (informational, never a failure).
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

REQUIRED_CASES = [
    "claude_streaming_snapshots", "claude_content_block_split", "claude_no_request_id",
    "claude_null_fields", "claude_no_message_id", "claude_legacy_no_cache_split",
    "claude_resumed_copy", "claude_sidechain_replay", "claude_subagent_response",
    "claude_synthetic_error", "claude_api_error_line", "claude_torn_last_line",
    "claude_usage_text_in_string", "claude_invalid_lines", "claude_web_search",
    "claude_long_context", "claude_fast_speed",
    "codex_delta", "codex_reemit", "codex_info_null", "codex_model_change", "codex_zst",
    "codex_archived", "codex_same_rollout_twice", "codex_forked_replay",
    "codex_thread_spawn_replay", "codex_no_turn_context", "codex_usage_text_in_string",
    "codex_cache_write", "codex_tier_priority", "codex_tier_default", "codex_tier_resume",
    "codex_tier_resume_none",
]
FIELDS = {"record": str, "event_id": str, "tool": str, "ts": str, "model": str, "session": str, "project": str,
          "user": str, "team_hint": str, "billing_mode": str, "speed": str, "service_tier": str,
          "input_tokens": int, "output_tokens": int, "cache_write_5m_tokens": int,
          "cache_write_1h_tokens": int, "cache_read_tokens": int, "reasoning_tokens": int,
          "web_search_requests": int}
MAP = [("input", "input_tokens"), ("output", "output_tokens"), ("cache_write_5m", "cache_write_5m_tokens"),
       ("cache_write_1h", "cache_write_1h_tokens"), ("cache_read", "cache_read_tokens"),
       ("reasoning", "reasoning_tokens"), ("web_search", "web_search_requests")]


def main():
    agent, gen = sys.argv[1], sys.argv[2]
    work = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="am-exact-")
    logs = os.path.join(work, "logs")
    shutil.rmtree(logs, ignore_errors=True)
    subprocess.run([sys.executable, gen, logs, "--seed", "11", "--sessions", "40"], check=True,
                   stdout=subprocess.DEVNULL)
    cases = json.load(open(os.path.join(logs, "cases.json")))
    missing = [c for c in REQUIRED_CASES if cases.get(c, 0) < 1]
    assert not missing, "generator did not write these cases: %s" % missing
    print("every decided case occurs: %s" % ", ".join("%s=%d" % (c, cases[c]) for c in REQUIRED_CASES))

    env = dict(os.environ, AIMETER_STATE_DIR=os.path.join(work, "state"), TZ="UTC")
    for k in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "AIMETER_CLAUDE_DIRS", "AIMETER_CODEX_DIRS"):
        env.pop(k, None)
    p = subprocess.run([agent, "scan", "--format", "jsonl", "--user", "dana@example.com",
                        "--claude-dir", os.path.join(logs, "claude"),
                        "--codex-dir", os.path.join(logs, "codex")],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    got = collections.defaultdict(collections.Counter)
    ids = set()
    for line in p.stdout.decode().splitlines():
        e = json.loads(line)
        if e.get("record") == "action":
            continue  # action records: tests/agent/actions-exact.py
        assert e["record"] == "usage", e["record"]
        assert set(e) == set(FIELDS), "fields differ: %s" % sorted(set(e) ^ set(FIELDS))
        for k, t in FIELDS.items():
            assert isinstance(e[k], t), (k, e[k])
        assert re.fullmatch(r"[0-9a-f]{32}", e["event_id"]), e["event_id"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["ts"]), e["ts"]
        assert e["event_id"] not in ids, "duplicate event id %s" % e["event_id"]
        ids.add(e["event_id"])
        assert "/" not in e["project"] and "/" not in e["session"], "raw path emitted"
        assert e["user"] == "dana@example.com"
        g = got[(e["tool"], e["ts"][:10], e["model"])]
        g["events"] += 1
        # Codex's service tier (the legacy "fast" is priority); Claude's lines say "standard"
        if e["tool"] == "codex" and e["service_tier"] in ("priority", "flex"):
            g[e["service_tier"] + "_events"] += 1
        for a, b in MAP:
            g[a] += e[b]
    out = p.stdout.decode()
    assert "s3cret" not in out and "/home/dev" not in out and "Overloaded" not in out, "text leaked"
    truth = {(r["tool"], r["day"], r["model"]): r for r in json.load(open(os.path.join(logs, "truth.json")))["rows"]}
    bad = []
    for k in sorted(set(truth) | set(got)):
        for f in ["events", "priority_events", "flex_events"] + [m[0] for m in MAP]:
            want, have = truth.get(k, {}).get(f, 0), got.get(k, {}).get(f, 0)
            if want != have:
                bad.append("%s %s: truth %d, agent %d" % (k, f, want, have))
    for b in bad[:20]:
        print("MISMATCH", b)
    assert not bad, "%d mismatches" % len(bad)
    n_events = sum(r["events"] for r in truth.values())
    print("exact: %d events in %d (tool, day, model) rows match the truth in every bucket"
          % (n_events, len(truth)))
    ccusage_report(logs, truth)


def ccusage_report(logs, truth):
    exe = shutil.which("ccusage")
    if exe is None:
        print("ccusage not installed: no comparison")
        return
    env = dict(os.environ, CLAUDE_CONFIG_DIR=os.path.join(logs, "claude"),
               CODEX_HOME=os.path.join(logs, "codex"), TZ="UTC")
    tot = collections.Counter()
    for r in truth.values():
        for f in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read"):
            tot[(r["tool"], f)] += r[f]
    try:
        s = json.loads(subprocess.run([exe, "claude", "session", "--offline", "--json"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300).stdout)
        c = collections.Counter()
        for x in s.get("sessions", []):
            c["input"] += x.get("inputTokens", 0)
            c["output"] += x.get("outputTokens", 0)
            c["cache_write"] += x.get("cacheCreationTokens", 0)
            c["cache_read"] += x.get("cacheReadTokens", 0)
        t = {"input": tot[("claude-code", "input")], "output": tot[("claude-code", "output")],
             "cache_write": tot[("claude-code", "cache_write_5m")] + tot[("claude-code", "cache_write_1h")],
             "cache_read": tot[("claude-code", "cache_read")]}
        print("ccusage claude session vs truth: " + ", ".join(
            "%s %d vs %d (%+.2f%%)" % (k, c[k], t[k], 100.0 * (c[k] - t[k]) / t[k] if t[k] else 0) for k in t))
        d = json.loads(subprocess.run([exe, "codex", "daily", "--offline", "--json"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300).stdout)
        c = collections.Counter()
        for x in d.get("daily", []):
            c["input"] += x.get("inputTokens", 0)
            c["output"] += x.get("outputTokens", 0)
            c["cache_read"] += x.get("cacheReadTokens", 0)
        t = {"input": tot[("codex", "input")], "output": tot[("codex", "output")],
             "cache_read": tot[("codex", "cache_read")]}
        print("ccusage codex daily vs truth: " + ", ".join(
            "%s %d vs %d (%+.2f%%)" % (k, c[k], t[k], 100.0 * (c[k] - t[k]) / t[k] if t[k] else 0) for k in t))
    except (subprocess.SubprocessError, ValueError, OSError) as e:
        print("ccusage comparison failed: %s" % e)


if __name__ == "__main__":
    main()
