#!/bin/sh
# boot-probe.sh: runs inside the booted test container as ExecStart= of a copy
# of aimeter-agent.service (same user, capabilities and sandbox), and checks
# that the agent's sandbox lets it read another user's AI-tool logs and write
# nothing but its state. Prints one line per check; exits 1 on any failure.
# The caller has put "boot-probe-secret" into /etc/aimeter/enrollment-secret.
# shellcheck disable=SC2015 # ok() cannot fail
fail=0
ok() { echo "probe ok: $*"; }
bad() { echo "probe FAIL: $*"; fail=1; }

claude=$(find /home/alice/.claude/projects -name '*.jsonl' | head -n 1)
codex=$(find /home/alice/.codex/sessions -name '*.jsonl' | head -n 1)
[ "$(id -un)" = aimeter-agent ] && ok "runs as aimeter-agent" || bad "runs as $(id -un)"
grep -q '^CapEff:	0000000000000004$' /proc/self/status &&
	ok "effective capabilities: CAP_DAC_READ_SEARCH only" ||
	bad "capabilities: $(grep Cap /proc/self/status | tr '\n' ' ')"
[ -n "$claude" ] && [ -n "$codex" ] && ok "finds alice's logs in a 0700 home" ||
	bad "cannot list alice's logs"
grep -q '"usage"' "$claude" && ok "reads alice's Claude Code log" || bad "cannot read $claude"
grep -q '"token_count"' "$codex" && ok "reads alice's Codex log" || bad "cannot read $codex"
if (: >> "$claude") 2>/dev/null; then bad "can write $claude"; else ok "cannot write alice's log"; fi
if (: > /home/alice/.aimeter-probe) 2>/dev/null; then bad "can create files in alice's home"; else ok "cannot create files in alice's home"; fi
if grep -q root /etc/shadow 2>/dev/null; then bad "reads /etc/shadow"; else ok "cannot read /etc/shadow"; fi
if grep -q root /etc/gshadow 2>/dev/null; then bad "reads /etc/gshadow"; else ok "cannot read /etc/gshadow"; fi
if ls /root/ >/dev/null 2>&1 && [ -n "$(ls -A /root 2>/dev/null)" ]; then bad "lists /root"; else ok "cannot see into /root"; fi
if grep -q . /etc/aimeter/enrollment-secret 2>/dev/null; then
	bad "reads /etc/aimeter/enrollment-secret directly"
else
	ok "cannot read /etc/aimeter/enrollment-secret directly"
fi
grep -qx boot-probe-secret "${CREDENTIALS_DIRECTORY:-/nonexistent}/enrollment-secret" &&
	ok "reads the secret as its credential" ||
	bad "no credential enrollment-secret in ${CREDENTIALS_DIRECTORY:-(unset)}"
for d in /etc /etc/aimeter /usr/bin /var /var/lib /home; do
	if (: > "$d/.aimeter-probe") 2>/dev/null; then bad "can write $d"; rm -f "$d/.aimeter-probe"; fi
done
ok "cannot write /etc, /etc/aimeter, /usr/bin, /var, /var/lib, /home"
if (: > /var/lib/aimeter/probe) 2>/dev/null; then ok "writes its state directory"; rm -f /var/lib/aimeter/probe; else bad "cannot write /var/lib/aimeter"; fi
[ "$(stat -c '%a %U' /var/lib/aimeter)" = "700 aimeter-agent" ] && ok "state directory 0700 aimeter-agent" ||
	bad "state directory is $(stat -c '%a %U' /var/lib/aimeter)"
exit "$fail"
