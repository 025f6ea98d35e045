#!/usr/bin/env bash
# check-units.sh SRC AGENT_EXE COLLECTOR_EXE: the systemd units pass
# `systemd-analyze verify`, score at most 2.0 (agent) and 1.5 (collector) in
# `systemd-analyze security --offline=true`, keep the directives the design
# depends on, and the sysusers.d files are valid. Runs on a throwaway root:
# this machine's unit tree plus the units and the built binaries.
set -euo pipefail
top=$1 agent_exe=$2 collector_exe=$3
fail=0
bad() { printf 'check-units: FAIL: %s\n' "$*" >&2; fail=1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/bin" "$root/lib/systemd" "$root/usr/lib/sysusers.d" "$root/etc"
cp -a /lib/systemd/system "$root/lib/systemd/"
install -m 0755 "$agent_exe" "$root/usr/bin/aimeter-agent"
install -m 0755 "$collector_exe" "$root/usr/bin/aimeter-collector"
for u in aimeter-agent aimeter-collector; do
	install -m 0644 "$top/deploy/systemd/$u.service" "$root/lib/systemd/system/"
	install -m 0644 "$top/deploy/systemd/$u.sysusers" "$root/usr/lib/sysusers.d/$u.conf"
done

declare -A limit=([aimeter-agent]=2.0 [aimeter-collector]=1.5)
for u in aimeter-agent aimeter-collector; do
	unit=$root/lib/systemd/system/$u.service
	# --man=no: the man pages are checked in the packages, not on this host.
	if ! out=$(systemd-analyze verify --man=no --root="$root" "$unit" 2>&1) || [ -n "$out" ]; then
		bad "$u: systemd-analyze verify: $out"
	fi
	sec=$(systemd-analyze security --offline=true --root="$root" --no-pager "$u.service" 2>&1) ||
		bad "$u: systemd-analyze security failed"
	score=$(sed -n "s/.*Overall exposure level for $u.service: \([0-9.]*\).*/\1/p" <<<"$sec")
	[ -n "$score" ] || { bad "$u: no exposure level in: $sec"; continue; }
	printf 'systemd-analyze security: %s %s (limit %s)\n' "$u.service" "$score" "${limit[$u]}"
	awk -v s="$score" -v l="${limit[$u]}" 'BEGIN { exit !(s <= l) }' ||
		{ printf '%s\n' "$sec" | grep '✗' >&2; bad "$u: exposure $score above ${limit[$u]}"; }
	# The same limit through systemd's own --threshold (tenths).
	t=$(awk -v l="${limit[$u]}" 'BEGIN { printf "%d", l * 10 }')
	systemd-analyze security --offline=true --root="$root" --threshold="$t" "$u.service" >/dev/null 2>&1 ||
		bad "$u: systemd-analyze security --threshold=$t fails"
done

# What the design rests on, line by line.
agent=$top/deploy/systemd/aimeter-agent.service
for want in 'User=aimeter-agent' 'AmbientCapabilities=CAP_DAC_READ_SEARCH' \
	'CapabilityBoundingSet=CAP_DAC_READ_SEARCH' 'ProtectHome=read-only' 'ProtectSystem=strict' \
	'NoNewPrivileges=yes' 'StateDirectory=aimeter' 'StateDirectoryMode=0700' \
	'LoadCredential=enrollment-secret:/etc/aimeter/enrollment-secret' 'PrivateUsers=' ; do
	case $want in
	PrivateUsers=) grep -q '^PrivateUsers=yes' "$agent" &&
		bad "agent: PrivateUsers=yes would void CAP_DAC_READ_SEARCH on the host's files" ;;
	*) grep -qx "$want" "$agent" || bad "agent: missing $want" ;;
	esac
done
for p in /etc/shadow /etc/gshadow /root /etc/aimeter/enrollment-secret; do
	grep '^InaccessiblePaths=' "$agent" | grep -q -- "-$p\( \|\$\)" || bad "agent: $p is not inaccessible"
done
[ "$(grep -c '^CapabilityBoundingSet=' "$agent")" -eq 1 ] || bad "agent: one CapabilityBoundingSet= line expected"
collector=$top/deploy/systemd/aimeter-collector.service
for want in 'User=aimeter-collector' 'CapabilityBoundingSet=' 'AmbientCapabilities=' \
	'PrivateUsers=yes' 'ProtectHome=yes' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
	'StateDirectory=aimeter-collector'; do
	grep -qx "$want" "$collector" || bad "collector: missing $want"
done

# sysusers.d: valid, and they make the users the units name.
out=$(systemd-sysusers --root="$root" --dry-run 2>&1) || bad "systemd-sysusers --dry-run: $out"
for u in aimeter-agent aimeter-collector; do
	grep -q "Creating user '$u'" <<<"$out" || bad "sysusers: no user $u ($out)"
done
exit "$fail"
