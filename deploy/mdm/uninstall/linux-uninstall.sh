#!/bin/sh
# linux-uninstall.sh: remove the aimeter agent from a Debian/Ubuntu or RPM
# machine, with its state, secret and settings. Run as root. The system user
# stays (as Debian policy wants); --remove-user deletes it too.
set -eu
remove_user=0
[ "${1:-}" = --remove-user ] && remove_user=1
[ "$(id -u)" -eq 0 ] || { echo "linux-uninstall: run as root" >&2; exit 1; }

if command -v dpkg-query >/dev/null 2>&1 &&
	dpkg-query -W -f='${Status}' aimeter-agent 2>/dev/null | grep -q 'ok installed'; then
	apt-get purge -y aimeter-agent || dpkg --purge aimeter-agent
elif command -v rpm >/dev/null 2>&1 && rpm -q aimeter-agent >/dev/null 2>&1; then
	rpm -e aimeter-agent
	rm -rf /var/lib/aimeter
	rm -f /etc/aimeter/enrollment-secret
fi
rm -rf /etc/aimeter/agent.conf.d
rm -f /etc/aimeter/agent.conf.rpmsave /etc/aimeter/collector-ca.pem
rmdir /etc/aimeter 2>/dev/null || true
if [ "$remove_user" -eq 1 ] && getent passwd aimeter-agent >/dev/null; then
	userdel aimeter-agent
fi
echo "aimeter agent removed"
