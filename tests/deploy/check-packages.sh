#!/usr/bin/env bash
# check-packages.sh SRC BUILD: build the packages with deploy/package/build-packages,
# then lintian (no errors) on both .deb, rpmlint on the .rpm, the scripts of
# both through sh -n and shellcheck, and the contents each must have.
set -euo pipefail
top=$1 bld=$2
# shellcheck source=tests/deploy/lib.sh
. "$top/tests/deploy/lib.sh"
ensure_packages
fail=0
bad() { log "FAIL: $*"; fail=1; }

# --- lintian ------------------------------------------------------------------------
out=$(lintian --allow-root --display-level '>=pedantic' --fail-on error "$agent_deb" "$collector_deb" 2>&1) ||
	bad "lintian reports errors"
printf 'lintian:\n%s\n' "${out:-  (no tags)}"

# --- rpmlint and the rpm's scripts ---------------------------------------------------------
out=$(rpmlint -c "$top/deploy/package/rpmlint.toml" "$agent_rpm" 2>&1) || bad "rpmlint reports errors"
printf '%s\n' "$out" | tail -n 3
case "$out" in *" 0 errors, 0 warnings"*) ;; *) bad "rpmlint: errors or warnings" ;; esac

scripts=$(mktemp -d)
trap 'rm -rf "$scripts"' EXIT
for tag in POSTIN PREUN POSTUN; do
	rpm -qp --qf "%{$tag}" "$agent_rpm" > "$scripts/$tag.sh"
	if [ ! -s "$scripts/$tag.sh" ] || [ "$(cat "$scripts/$tag.sh")" = "(none)" ]; then
		bad "rpm: no $tag scriptlet"
	fi
	prog=$(rpm -qp --qf "%{${tag}PROG}" "$agent_rpm")
	[ "$prog" = /bin/sh ] || bad "rpm: $tag runs $prog, not /bin/sh"
	sh -n "$scripts/$tag.sh" || bad "rpm: $tag scriptlet does not parse"
	shellcheck -s sh "$scripts/$tag.sh" || bad "rpm: shellcheck $tag"
done
files=$(rpm -qpl "$agent_rpm")
for f in /usr/bin/aimeter-agent /usr/lib/systemd/system/aimeter-agent.service \
	/usr/lib/sysusers.d/aimeter-agent.conf /etc/aimeter/agent.conf /etc/aimeter/agent.conf.d; do
	grep -qx "$f" <<<"$files" || bad "rpm: $f missing"
done
# Capture before grep -q: it exits at the first match, and under pipefail
# the writer's SIGPIPE would fail the check now and then.
configfiles=$(rpm -qp --configfiles "$agent_rpm")
requires=$(rpm -qp --requires "$agent_rpm")
grep -qx /etc/aimeter/agent.conf <<<"$configfiles" || bad "rpm: agent.conf is not %config"
grep -qx systemd <<<"$requires" || bad "rpm: does not require systemd"
grep -qx 'libcurl.so.4()(64bit)' <<<"$requires" || bad "rpm: does not require libcurl (dlopened)"
# The secret is a %ghost: owned, never shipped with content.
rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms}\n]' "$agent_rpm" |
	grep -q '^/etc/aimeter/enrollment-secret [a-z]*g[a-z]* -rw-------$' ||
	bad "rpm: enrollment-secret is not a 0600 %ghost"

# --- .deb contents and maintainer scripts ---------------------------------------------------
for deb in "$agent_deb" "$collector_deb"; do
	pkg=$(dpkg-deb -f "$deb" Package)
	d=$scripts/$pkg
	dpkg-deb -e "$deb" "$d"
	for s in postinst prerm postrm; do
		sh -n "$d/$s" || bad "$pkg: $s does not parse"
		shellcheck -s sh "$d/$s" || bad "$pkg: shellcheck $s"
	done
	grep -q 'systemd-sysusers' "$d/postinst" || bad "$pkg: postinst does not create the user"
	depends=$(dpkg-deb -f "$deb" Depends)
	grep -q 'systemd' <<<"$depends" || bad "$pkg: does not depend on systemd"
	if [ "$pkg" = aimeter-agent ]; then
		# dlopened while sending, so dpkg-shlibdeps cannot find it.
		grep -q 'libcurl4' <<<"$depends" || bad "$pkg: does not depend on libcurl4"
	fi
	list=$(dpkg-deb -c "$deb" | awk '{print $1, $6}')
	case $pkg in
	aimeter-agent) want="./usr/bin/aimeter-agent ./etc/aimeter/agent.conf ./etc/aimeter/agent.conf.d/" ;;
	*) want="./usr/bin/aimeter-collector ./usr/bin/aimeterctl ./etc/aimeter/collector.conf" ;;
	esac
	for f in $want ./lib/systemd/system/$pkg.service ./usr/lib/sysusers.d/$pkg.conf \
		./usr/share/doc/$pkg/copyright; do
		grep -q " $f\$" <<<"$list" || bad "$pkg: $f missing"
	done
	grep -q 'enrollment-secret\|\.key$' <<<"$list" && bad "$pkg: ships a secret"
	grep -qx "/etc/aimeter/${pkg#aimeter-}.conf" "$d/conffiles" || bad "$pkg: config is not a conffile"
done
printf '%s\n' "packages: $(basename "$agent_deb") $(basename "$collector_deb") $(basename "$agent_rpm")"
exit "$fail"
