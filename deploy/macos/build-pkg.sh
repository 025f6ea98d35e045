#!/bin/sh
# build-pkg.sh: build, sign and notarize aimeter-agent.pkg. Runs on a Mac
# only (Xcode command line tools, meson, ninja and the libraries from
# Homebrew or MacPorts); it has never been run in this repository's CI, which
# is Debian. Test the result on a Mac before any rollout.
#
# Environment:
#   APP_IDENTITY        "Developer ID Application: Example Corp (TEAMID0000)"
#   INSTALLER_IDENTITY  "Developer ID Installer: Example Corp (TEAMID0000)"
#   NOTARY_PROFILE      a keychain profile made with `xcrun notarytool store-credentials`
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${1:-"$src/build-macos"}
version=$(sed -n "s/^  version: '\(.*\)',/\1/p" "$src/meson.build")
: "${APP_IDENTITY:?set APP_IDENTITY}" "${INSTALLER_IDENTITY:?set INSTALLER_IDENTITY}"

# 1. Build (universal: run once per architecture and lipo, or set
#    -Dc_args/-Dc_link_args with -arch arm64 -arch x86_64 where the
#    dependencies are universal).
meson setup "$out/build" "$src" --buildtype=release -Db_sanitize=none
meson compile -C "$out/build" agent/aimeter-agent

# 2. Payload: the pkgbuild root mirrors the target disk. /etc is a symlink
#    to /private/etc on macOS, so the configuration goes there.
root=$out/root
rm -rf "$root"
install -d -m 0755 "$root/Library/aimeter/bin" "$root/Library/LaunchDaemons" \
	"$root/private/etc/aimeter/agent.conf.d"
install -m 0755 "$out/build/agent/aimeter-agent" "$root/Library/aimeter/bin/aimeter-agent"
install -m 0644 "$here/com.aimeter.agent.plist" "$root/Library/LaunchDaemons/"
install -m 0644 "$src/deploy/config/agent.conf" "$root/private/etc/aimeter/agent.conf"

# 3. Sign the binary with the hardened runtime and a fixed identifier, which
#    the PPPC profile's code requirement names.
codesign --force --options runtime --timestamp --identifier com.aimeter.agent \
	--sign "$APP_IDENTITY" "$root/Library/aimeter/bin/aimeter-agent"
codesign -dr - "$root/Library/aimeter/bin/aimeter-agent"	# paste into the PPPC profile

# 4. Package, sign, notarize, staple.
scripts=$out/scripts
rm -rf "$scripts"
install -d "$scripts"
install -m 0755 "$here/scripts/preinstall" "$here/scripts/postinstall" "$scripts/"
pkgbuild --root "$root" --scripts "$scripts" --identifier com.aimeter.agent \
	--version "$version" --install-location / --ownership recommended \
	"$out/aimeter-agent-component.pkg"
productbuild --package "$out/aimeter-agent-component.pkg" \
	--sign "$INSTALLER_IDENTITY" "$out/aimeter-agent-$version.pkg"
if [ -n "${NOTARY_PROFILE:-}" ]; then
	xcrun notarytool submit "$out/aimeter-agent-$version.pkg" \
		--keychain-profile "$NOTARY_PROFILE" --wait
	xcrun stapler staple "$out/aimeter-agent-$version.pkg"
fi
echo "$out/aimeter-agent-$version.pkg"
