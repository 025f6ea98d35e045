# lib.sh: shared by the deploy tests (sourced). Callers set top (the source
# tree) and bld (meson's build root) before sourcing.

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "$*"; exit 1; }

# Where slow-to-make inputs (base root tarballs) are kept between runs.
cache=${AM_TEST_CACHE:-/var/cache/aimeter-test}

# ensure_packages: build the .deb and .rpm files once per tree state, in
# $bld/deploy-pkg (a separate, unsanitized build with prefix /usr), serialised
# with a lock so that parallel tests share them. Sets debs_dir.
ensure_packages() {
	debs_dir=$bld/deploy-pkg/out
	mkdir -p "$bld/deploy-pkg"
	(
		flock 9
		"$top/deploy/package/build-packages" "$bld/deploy-pkg/build" "$debs_dir" >/dev/null
	) 9>"$bld/deploy-pkg/lock" || die "deploy/package/build-packages failed"
	agent_deb=$(ls "$debs_dir"/aimeter-agent_*.deb)
	collector_deb=$(ls "$debs_dir"/aimeter-collector_*.deb)
	agent_rpm=$(ls "$debs_dir"/aimeter-agent-*.rpm)
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "needs root (tests/run runs as root)"
}
