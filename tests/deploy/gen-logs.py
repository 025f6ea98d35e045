#!/usr/bin/python3
"""gen-logs.py HOME N_CLAUDE N_CODEX: write Claude Code and Codex CLI usage logs
into HOME (as the tools do: ~/.claude/projects/<dir>/<session>.jsonl and
~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl) holding exactly N_CLAUDE billed
Claude responses and N_CODEX Codex model calls, a day old so that every
response is settled. Prints {"claude-code": N_CLAUDE, "codex": N_CODEX}."""
import datetime
import json
import pathlib
import sys
import uuid

home = pathlib.Path(sys.argv[1])
n_claude, n_codex = int(sys.argv[2]), int(sys.argv[3])
t0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(days=1)


def ts(sec):
    return (t0 + datetime.timedelta(seconds=sec)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


cwd = f"{home}/src/shop-api"
session = str(uuid.UUID(int=0x5E55))
claude = home / ".claude" / "projects" / cwd.replace("/", "-") / f"{session}.jsonl"
claude.parent.mkdir(parents=True, exist_ok=True)
with open(claude, "w") as f:
    for i in range(n_claude):
        f.write(json.dumps({
            "type": "user", "sessionId": session, "cwd": cwd, "uuid": f"user-{i}",
            "timestamp": ts(10 * i), "message": {"role": "user", "content": "(prompt text)"},
        }) + "\n")
        f.write(json.dumps({
            "parentUuid": f"user-{i}", "isSidechain": False, "userType": "external", "cwd": cwd,
            "sessionId": session, "version": "2.1.90", "gitBranch": "main", "type": "assistant",
            "message": {"model": "claude-sonnet-4-5-20250929", "id": f"msg_boot{i:04d}",
                        "type": "message", "role": "assistant",
                        "content": [{"type": "text", "text": "(reply text)"}],
                        "stop_reason": "end_turn", "stop_sequence": None,
                        "usage": {"input_tokens": 10 + i, "cache_creation_input_tokens": 100,
                                  "cache_read_input_tokens": 1000,
                                  "cache_creation": {"ephemeral_5m_input_tokens": 100,
                                                     "ephemeral_1h_input_tokens": 0},
                                  "output_tokens": 50 + i, "service_tier": "standard"}},
            "requestId": f"req_boot{i:04d}", "uuid": f"asst-{i}", "timestamp": ts(10 * i + 5),
        }) + "\n")

cid = str(uuid.UUID(int=0xC0DE))
day = t0.strftime("%Y/%m/%d")
codex = home / ".codex" / "sessions" / day / f"rollout-{t0.strftime('%Y-%m-%dT%H-%M-%S')}-{cid}.jsonl"
codex.parent.mkdir(parents=True, exist_ok=True)
with open(codex, "w") as f:
    f.write(json.dumps({"timestamp": ts(0), "type": "session_meta", "payload": {
        "id": cid, "timestamp": ts(0), "cwd": cwd, "originator": "codex_cli_rs",
        "cli_version": "0.150.0", "source": "cli", "model_provider": "openai"}}) + "\n")
    f.write(json.dumps({"timestamp": ts(1), "type": "turn_context",
                        "payload": {"cwd": cwd, "model": "gpt-5.1-codex", "effort": "medium"}}) + "\n")
    total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0,
             "reasoning_output_tokens": 0, "total_tokens": 0}
    for i in range(n_codex):
        last = {"input_tokens": 1000 + i, "cached_input_tokens": 500, "output_tokens": 100 + i,
                "reasoning_output_tokens": 40, "total_tokens": 1100 + 2 * i}
        total = {k: total[k] + last[k] for k in total}
        f.write(json.dumps({"timestamp": ts(20 * i + 10), "type": "event_msg", "payload": {
            "type": "token_count", "info": {"total_token_usage": total, "last_token_usage": last,
                                            "model_context_window": 272000},
            "rate_limits": None}}) + "\n")
print(json.dumps({"claude-code": n_claude, "codex": n_codex}))
