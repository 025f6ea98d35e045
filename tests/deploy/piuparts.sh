#!/usr/bin/env bash
# piuparts.sh SRC BUILD: piuparts installs, removes and purges each .deb in a
# fresh bookworm chroot. The base chroot (minbase plus systemd, which both
# packages need and every target machine has) is made once with mmdebstrap
# and kept in $AM_TEST_CACHE (default /var/cache/aimeter-test), so a run
# costs about half a minute per package; its dependencies come from the
# Debian mirror. Needs root.
set -euo pipefail
top=$1 bld=$2
# shellcheck source=tests/deploy/lib.sh
. "$top/tests/deploy/lib.sh"
need_root
ensure_packages

mirror=${AM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=$cache/piuparts-bookworm-systemd.tar.gz
mkdir -p "$cache"
(
	flock 9
	if [ ! -s "$base" ]; then
		log "making the base chroot $base (once)"
		mmdebstrap --quiet --variant=minbase --include=systemd bookworm "$base.tmp.tar.gz" "$mirror" ||
			die "mmdebstrap failed"
		mv "$base.tmp.tar.gz" "$base"
	fi
) 9>"$cache/piuparts.lock"

tmp=$(mktemp -d /tmp/aimeter-piuparts.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
for deb in "$agent_deb" "$collector_deb"; do
	name=$(basename "$deb")
	# --no-upgrade-test: there is no earlier version in the archive to upgrade from.
	if piuparts --basetgz "$base" --distribution bookworm --mirror "$mirror" \
		--no-upgrade-test --tmpdir "$tmp" --log-file "$tmp/$name.log" "$deb" >/dev/null 2>&1; then
		printf 'piuparts: %s: %s\n' "$name" "$(grep -o 'PASS: All tests.' "$tmp/$name.log")"
	else
		printf 'piuparts: %s: FAIL\n' "$name"
		grep -E 'ERROR|FAIL|left files|not owned|Warning' "$tmp/$name.log" | head -n 40
		fail=1
	fi
done
exit "$fail"
