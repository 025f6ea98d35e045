#!/usr/bin/env python3
"""actions-exact.py AGENT GEN [WORKDIR]: the agent's action records equal the generator's truth.

Runs tests/gen/gen-actions, checks every case occurs, runs `aimeter-agent scan
--format jsonl` and sums the action records per (tool, UTC day, kind, decision):
count, lines added/removed, proposed lines, commits, pull requests and sub-agent
calls must equal the truth exactly. Checks the line contract (exactly the fields
of docs/actions.md, types, 32-hex ids, no duplicates), that usage lines still
carry every usage field, and that the marker planted in paths, commands,
patch bodies and MCP arguments appears nowhere in the output.
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ACTION = {"record": str, "action_id": str, "tool": str, "ts": str, "session": str, "project": str,
          "user": str, "kind": str, "tool_name": str, "target": str, "decision": str,
          "lines_added": int, "lines_removed": int, "proposed_lines_added": int,
          "proposed_lines_removed": int, "file_ext": str, "commits": int, "pull_requests": int,
          "in_subagent": bool}
USAGE = {"record", "event_id", "tool", "ts", "model", "session", "project", "user", "team_hint",
         "billing_mode", "speed", "service_tier", "input_tokens", "output_tokens",
         "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens", "reasoning_tokens",
         "web_search_requests"}
SUMS = ["lines_added", "lines_removed", "proposed_lines_added", "proposed_lines_removed", "commits",
        "pull_requests"]
CASES = ["claude_edit_accepted", "claude_edit_rejected", "claude_edit_failed", "claude_multiedit",
         "claude_write_create", "claude_write_overwrite", "claude_diff_like_text", "claude_commit",
         "claude_commit_failed", "claude_not_a_commit", "claude_chained_commit", "claude_gh_pr",
         "claude_mcp_pr", "claude_denial_kind", "claude_no_result", "claude_subagent",
         "claude_subagent_calls", "claude_resumed_copy", "claude_copied_file",
         "claude_result_after_midnight", "codex_patch_add", "codex_patch_update_tricky",
         "codex_patch_delete", "codex_patch_rejected", "codex_patch_via_shell", "codex_commit",
         "codex_commit_failed", "codex_commit_rejected", "codex_chained_commit", "codex_gh_pr",
         "codex_mcp_pr", "codex_no_output", "codex_copied_rollout", "codex_subagent_call"]


def main():
    agent, gen = sys.argv[1], sys.argv[2]
    work = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="am-actions-")
    logs = os.path.join(work, "logs")
    shutil.rmtree(logs, ignore_errors=True)
    subprocess.run([sys.executable, gen, logs], check=True)
    cases = json.load(open(os.path.join(logs, "cases.json")))
    missing = [c for c in CASES if cases.get(c, 0) < 1]
    assert not missing, "generator did not write these cases: %s" % missing
    truth_doc = json.load(open(os.path.join(logs, "truth.json")))
    env = dict(os.environ, AIMETER_STATE_DIR=os.path.join(work, "state"), TZ="UTC")
    for k in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "AIMETER_CLAUDE_DIRS", "AIMETER_CODEX_DIRS"):
        env.pop(k, None)
    p = subprocess.run([agent, "scan", "--format", "jsonl", "--user", "dana@example.com",
                        "--claude-dir", os.path.join(logs, "claude"),
                        "--codex-dir", os.path.join(logs, "codex")],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    out = p.stdout.decode()
    assert truth_doc["marker"] not in out, "a marker from a path, command, patch or MCP argument leaked"
    got = collections.defaultdict(collections.Counter)
    ids = set()
    n_usage = 0
    for line in out.splitlines():
        e = json.loads(line)
        if e["record"] == "usage":
            assert set(e) == USAGE, sorted(set(e) ^ USAGE)
            n_usage += 1
            continue
        assert e["record"] == "action", e["record"]
        assert set(e) == set(ACTION), "fields differ: %s" % sorted(set(e) ^ set(ACTION))
        for k, t in ACTION.items():
            assert type(e[k]) is t, (k, e[k])
        assert re.fullmatch(r"[0-9a-f]{32}", e["action_id"]), e["action_id"]
        assert e["action_id"] not in ids, "duplicate action %s" % e["action_id"]
        ids.add(e["action_id"])
        assert e["user"] == "dana@example.com"
        assert "/" not in e["project"] and "/" not in e["file_ext"]
        if e["kind"] == "mcp" or e["tool_name"].startswith("mcp__"):
            assert e["tool_name"].startswith("mcp__h:"), e["tool_name"]
        g = got[(e["tool"], e["ts"][:10], e["kind"], e["decision"])]
        g["actions"] += 1
        for f in SUMS:
            g[f] += e[f]
        g["in_subagent"] += 1 if e["in_subagent"] else 0
    truth = {(r["tool"], r["day"], r["kind"], r["decision"]): r for r in truth_doc["rows"]}
    bad = []
    for k in sorted(set(truth) | set(got)):
        for f in ["actions", "in_subagent"] + SUMS:
            w, h = truth.get(k, {}).get(f, 0), got.get(k, {}).get(f, 0)
            if w != h:
                bad.append("%s %s: truth %d, agent %d" % (k, f, w, h))
    for b in bad[:30]:
        print("MISMATCH", b)
    assert not bad, "%d mismatches" % len(bad)
    assert n_usage > 0
    print("exact: %d action records in %d (tool, day, kind, decision) rows match the truth; "
          "%d usage lines beside them" % (len(ids), len(truth), n_usage))
    r = subprocess.run([agent, "report", "actions", "--json", "--user", "dana@example.com",
                        "--claude-dir", os.path.join(logs, "claude"),
                        "--codex-dir", os.path.join(logs, "codex")],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    rows = json.loads(r.stdout)
    total = [x for x in rows if x["by"] == "total"][0]
    assert total["calls"] == len(ids), (total, len(ids))
    want_commits = sum(x["commits"] for x in truth.values())
    want_prs = sum(x["pull_requests"] for x in truth.values())
    assert total["commits"] == want_commits and total["pull_requests"] == want_prs, total
    assert truth_doc["marker"] not in r.stdout.decode()
    print("report actions: %d calls, %d commits, %d pull requests, acceptance %.3f"
          % (total["calls"], total["commits"], total["pull_requests"], total["acceptance_rate"]))


if __name__ == "__main__":
    main()
