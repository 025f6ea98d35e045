#!/usr/bin/python3
"""check-templates.py SRC: every plist and configuration profile in deploy/
parses, PayloadUUIDs are unique, the profiles say what aimeter needs, the
agent's settings use exactly the keys of docs/configuration.md, and the AI
tools' settings fragments parse with their content logging off.

Runs with Debian's python3 (plistlib, tomllib, PyYAML from python3-yaml)."""
import json
import pathlib
import plistlib
import re
import sys
import tomllib

import yaml

top = pathlib.Path(sys.argv[1])
deploy = top / "deploy"
failures = []


def bad(msg):
    failures.append(msg)
    print("FAIL:", msg, file=sys.stderr)


# --- the key table of docs/configuration.md --------------------------------------
ini_keys, env_keys, mac_keys = set(), set(), set()
for line in (top / "docs" / "configuration.md").read_text().splitlines():
    m = re.match(r"\|\s*`\[(\w+)\] (\w+)`\s*\|\s*`(\w+)`\s*\|\s*`(\w+)`\s*\|", line)
    if m:
        ini_keys.add((m[1], m[2]))
        env_keys.add(m[3])
        mac_keys.add(m[4])
if len(ini_keys) < 15:
    bad(f"docs/configuration.md: only {len(ini_keys)} keys found in the table")

# --- agent.conf: every key, commented, nothing active ------------------------------
section, commented = None, set()
for n, line in enumerate((deploy / "config" / "agent.conf").read_text().splitlines(), 1):
    if m := re.match(r"^\[(\w+)\]\s*$", line):
        section = m[1]
    elif m := re.match(r"^#(\w+) =", line):
        commented.add((section, m[1]))
    elif line.strip() and not line.startswith("#"):
        bad(f"agent.conf:{n}: active line {line!r} (every key stays commented)")
for k in sorted(ini_keys - commented):
    bad(f"agent.conf: key [{k[0]}] {k[1]} missing")
for k in sorted(commented - ini_keys):
    bad(f"agent.conf: [{k[0]}] {k[1]} is not in docs/configuration.md")

# --- every plist and profile parses; PayloadUUIDs unique -----------------------------
uuids = {}


def walk_uuids(obj, where):
    if isinstance(obj, dict):
        if "PayloadUUID" in obj:
            u = obj["PayloadUUID"]
            if not re.fullmatch(r"[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", u):
                bad(f"{where}: PayloadUUID {u!r} is not an upper-case UUID")
            if u in uuids:
                bad(f"{where}: PayloadUUID {u} also in {uuids[u]}")
            uuids[u] = where
            for k in ("PayloadIdentifier", "PayloadType", "PayloadVersion"):
                if k not in obj:
                    bad(f"{where}: payload {u} has no {k}")
        for v in obj.values():
            walk_uuids(v, where)
    elif isinstance(obj, list):
        for v in obj:
            walk_uuids(v, where)


plists = {}
files = sorted(list(deploy.rglob("*.plist")) + list(deploy.rglob("*.mobileconfig")))
if len(files) < 5:
    bad(f"only {len(files)} plists and profiles found")
for f in files:
    rel = str(f.relative_to(top))
    try:
        with open(f, "rb") as fp:
            plists[f.name] = plistlib.load(fp)
    except Exception as e:  # noqa: BLE001 - any parse error is the finding
        bad(f"{rel}: does not parse: {e}")
        continue
    if f.suffix == ".mobileconfig":
        p = plists[f.name]
        if p.get("PayloadType") != "Configuration" or not p.get("PayloadContent"):
            bad(f"{rel}: not a Configuration profile with content")
        walk_uuids(p, rel)
print(f"{len(files)} plists and profiles parse; {len(uuids)} PayloadUUIDs, all unique")


def payload(name, ptype):
    for p in plists.get(name, {}).get("PayloadContent", []):
        if p.get("PayloadType") == ptype:
            return p
    bad(f"{name}: no {ptype} payload")
    return {}


# LaunchDaemon
d = plists.get("com.aimeter.agent.plist", {})
binary = (d.get("ProgramArguments") or ["?"])[0]
if d.get("Label") != "com.aimeter.agent" or d.get("ProgramArguments", [None, None])[1:] != ["run"]:
    bad("LaunchDaemon: Label com.aimeter.agent running `aimeter-agent run` expected")
for k in ("RunAtLoad", "KeepAlive"):
    if not d.get(k):
        bad(f"LaunchDaemon: {k} missing")
if d.get("ProcessType") != "Background":
    bad("LaunchDaemon: ProcessType Background expected")
for k, v in d.get("EnvironmentVariables", {}).items():
    if k not in env_keys:
        bad(f"LaunchDaemon: {k} is not an AIMETER_* variable of docs/configuration.md")

# settings: domain com.aimeter.agent, documented keys, right types
s = payload("aimeter-agent-settings.mobileconfig", "com.aimeter.agent")
types = {"AllUsers": bool, "BatchEvents": int, "BatchAge": int, "SettleSeconds": int}
for k, v in s.items():
    if k.startswith("Payload"):
        continue
    if k not in mac_keys:
        bad(f"settings profile: {k} is not a key of docs/configuration.md")
    elif not isinstance(v, types.get(k, str)) or (types.get(k, str) is int and isinstance(v, bool)):
        bad(f"settings profile: {k} should be {types.get(k, str).__name__}")
if not str(s.get("ServerURL", "")).startswith("https://"):
    bad("settings profile: ServerURL must be https://")
if "EnrollmentSecret" in s:
    bad("settings profile: no inline EnrollmentSecret in a template (profiles are world-readable)")

# PPPC: Full Disk Access for exactly the daemon's binary, with a code requirement
p = payload("aimeter-agent-pppc.mobileconfig", "com.apple.TCC.configuration-profile-policy")
fda = p.get("Services", {}).get("SystemPolicyAllFiles", [])
if len(fda) != 1:
    bad("PPPC: one SystemPolicyAllFiles entry expected")
for e in fda:
    if e.get("Identifier") != binary or e.get("IdentifierType") != "path":
        bad(f"PPPC: identifier must be the daemon's binary {binary} (path)")
    if "identifier \"com.aimeter.agent\"" not in e.get("CodeRequirement", ""):
        bad("PPPC: CodeRequirement must name identifier com.aimeter.agent")
    if e.get("Authorization") != "Allow" and e.get("Allowed") is not True:
        bad("PPPC: access not allowed")

# Login items / background task management
sm = payload("aimeter-agent-background.mobileconfig", "com.apple.servicemanagement")
rules = {(r.get("RuleType"), r.get("RuleValue")) for r in sm.get("Rules", [])}
if ("Label", "com.aimeter.agent") not in rules:
    bad("background profile: no Label rule for com.aimeter.agent")

# --- the AI tools' own settings -------------------------------------------------------
mdm = deploy / "mdm"
CONTENT_FLAGS = ("OTEL_LOG_USER_PROMPTS", "OTEL_LOG_ASSISTANT_RESPONSES", "OTEL_LOG_TOOL_DETAILS",
                 "OTEL_LOG_TOOL_CONTENT", "OTEL_LOG_RAW_API_BODIES")


def check_claude(cfg, where):
    days = cfg.get("cleanupPeriodDays")
    if not isinstance(days, int) or isinstance(days, bool) or days < 30:
        bad(f"{where}: cleanupPeriodDays must be an integer >= 30 (0 deletes transcripts), is {days!r}")
    env = cfg.get("env", {})
    for k in CONTENT_FLAGS:
        if env.get(k, "0") not in ("0", "false"):
            bad(f"{where}: {k} must be unset or 0, is {env.get(k)!r}")
    for k, v in env.items():
        if k.startswith("OTEL_LOG_") and v not in ("0", "false"):
            bad(f"{where}: {k}={v!r} turns content logging on")


claude = json.loads((mdm / "claude-code" / "managed-settings.json").read_text())
check_claude(claude, "claude-code/managed-settings.json")
cp = payload("claude-code-settings.mobileconfig", "com.anthropic.claudecode")
check_claude(cp, "claude-code-settings.mobileconfig")
if {k: v for k, v in cp.items() if not k.startswith("Payload")} != claude:
    bad("claude-code-settings.mobileconfig differs from managed-settings.json")

codex = tomllib.loads((mdm / "codex" / "config.toml").read_text())
if codex.get("otel", {}).get("log_user_prompt") is not False:
    bad("codex/config.toml: [otel] log_user_prompt must be false")

gemini = json.loads((mdm / "gemini-cli" / "settings.json").read_text())
if gemini.get("telemetry", {}).get("logPrompts") is not False:
    bad("gemini-cli/settings.json: telemetry.logPrompts must be false")

play = yaml.safe_load((mdm / "ansible" / "aimeter-agent.yml").read_text())
if not isinstance(play, list) or not play[0].get("tasks"):
    bad("ansible/aimeter-agent.yml: not a playbook")
elif not any(t.get("no_log") for t in play[0]["tasks"] if "secret" in t.get("name", "").lower()):
    bad("ansible: the task writing the enrollment secret must set no_log")

print("claude-code: cleanupPeriodDays", claude.get("cleanupPeriodDays"), "and OTEL_LOG_* off; "
      "codex: log_user_prompt false; gemini-cli: logPrompts false")
if failures:
    print(f"{len(failures)} failures", file=sys.stderr)
    sys.exit(1)
