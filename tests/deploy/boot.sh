#!/usr/bin/env bash
# boot.sh SRC BUILD: the boot test. A minimal Debian root with systemd,
# PostgreSQL and the packages' libraries (mmdebstrap, cached in
# $AM_TEST_CACHE by its package list), a second user "alice" whose 0700 home
# holds generated Claude Code and Codex logs, booted with
# `systemd-nspawn --boot`; boot-inside.sh installs both .deb inside and runs
# the checks, then powers the container off. Needs root; fails (never skips)
# when it cannot run, since tests/run must not pass without it.
set -euo pipefail
top=$1 bld=$2
# shellcheck source=tests/deploy/lib.sh
. "$top/tests/deploy/lib.sh"
need_root
for t in systemd-nspawn mmdebstrap unshare; do
	command -v "$t" >/dev/null || die "$t not found (tests/deps.txt)"
done
ensure_packages

# --- 1. the base root, made once per package list ------------------------------------------
mirror=${AM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
deps=$(for d in "$agent_deb" "$collector_deb"; do dpkg-deb -f "$d" Depends; echo ,; done |
	tr ',' '\n' | sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/[[:space:]]//g' | grep -v '^$' | sort -u)
pkgs=$(printf '%s\n' systemd-sysv dbus postgresql-15 postgresql-client-15 openssl ca-certificates \
	procps $deps | sort -u | tr '\n' ',' | sed 's/,$//')
key=$(printf '%s' "$pkgs" | sha256sum | cut -c1-12)
base=$cache/boot-bookworm-$key.tar
mkdir -p "$cache"
(
	flock 9
	if [ ! -s "$base" ]; then
		log "making the base root $base (once per package list)"
		rm -f "$cache"/boot-bookworm-*.tar
		mmdebstrap --quiet --variant=minbase --include="$pkgs" bookworm "$base.tmp.tar" "$mirror" ||
			die "mmdebstrap failed"
		mv "$base.tmp.tar" "$base"
	fi
) 9>"$cache/boot.lock"

# --- 2. this run's root --------------------------------------------------------------------
root=$(mktemp -d /var/tmp/aimeter-boot.XXXXXX)
trap 'rm -rf --one-file-system "$root"' EXIT
tar -C "$root" -xf "$base"
echo aimeter-boot >"$root/etc/hostname"
install -d "$root/root/aimeter-debs" "$root/usr/local/lib/aimeter-boot"
cp "$agent_deb" "$collector_deb" "$root/root/aimeter-debs/"
install -m 0755 "$top/tests/deploy/boot-inside.sh" "$top/tests/deploy/boot-probe.sh" \
	"$root/usr/local/lib/aimeter-boot/"
chroot "$root" useradd --create-home --shell /bin/bash alice
chmod 0700 "$root/home/alice"
"$top/tests/deploy/gen-logs.py" "$root/home/alice" 40 25 | python3 -c \
	'import json,sys; print(sum(json.load(sys.stdin).values()))' >"$root/usr/local/lib/aimeter-boot/expected-events"
chroot "$root" chown -R alice:alice /home/alice
find "$root/home/alice" -type f -exec chmod 0600 {} + -o -type d -exec chmod 0700 {} +
cat >"$root/etc/systemd/system/aimeter-boot-test.service" <<'UNIT'
[Unit]
Description=aimeter boot test
After=multi-user.target postgresql.service
[Service]
Type=oneshot
ExecStart=/usr/local/lib/aimeter-boot/boot-inside.sh
TimeoutStartSec=900
[Install]
WantedBy=multi-user.target
UNIT
ln -s ../aimeter-boot-test.service "$root/etc/systemd/system/multi-user.target.wants/"

# --- 3. boot ---------------------------------------------------------------------------------
# systemd-nspawn removes its propagation directory under /run/systemd/nspawn
# when the container exits, and refuses to when /run is not a tmpfs (as on
# this kind of machine): give it a tmpfs in a mount namespace of its own.
start=$(date +%s)
# shellcheck disable=SC2016 # $1 expands in the inner shell
unshare --mount --propagation private sh -c '
	mkdir -p /run/systemd/nspawn && mount -t tmpfs tmpfs /run/systemd/nspawn &&
	exec timeout 1200 systemd-nspawn --quiet -D "$1" --boot --private-network \
		--register=no --keep-unit --console=pipe' sh "$root" </dev/null >"$root/nspawn.log" 2>&1 ||
	{ tail -n 30 "$root/nspawn.log"; log "systemd-nspawn failed or timed out"; }
log "container ran $(($(date +%s) - start)) s and powered off"

# --- 4. results ------------------------------------------------------------------------------
cat "$root/var/log/aimeter-boot-test.log" 2>/dev/null || die "the test inside never ran"
status=$(cat "$root/var/log/aimeter-boot-test.status" 2>/dev/null || echo 1)
[ "$status" = 0 ] || exit 1
secs=$(cat "$root/var/log/aimeter-boot-test.seconds" 2>/dev/null || echo "?")
log "PASS: package install to all of alice's events in the database: $secs s"
exit 0
