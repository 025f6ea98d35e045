#!/bin/sh
# boot-inside.sh: runs inside the booted test container (the oneshot unit
# aimeter-boot-test.service), then powers the container off. Writes its log
# to /var/log/aimeter-boot-test.log and 0 (pass), 1 (fail) or 77 (stage 2
# not possible yet) to /var/log/aimeter-boot-test.status.
#
# Stage 1, the packages and the sandbox: install both .deb the admin's way,
# check users, units, the secret file, the collector waiting for its keys,
# and run a copy of aimeter-agent.service whose ExecStart= is a probe.
# Stage 2, the 10-minute path: aimeterctl init, enroll-token create, the
# secret and the URL for the agent, and alice's events in the database.
exec >/var/log/aimeter-boot-test.log 2>&1
set -u
here=/usr/local/lib/aimeter-boot
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
finish() {
	echo "status $1 after $(($(date +%s) - t0)) s"
	echo "$1" >/var/log/aimeter-boot-test.status
	sync
	systemctl poweroff --no-block
	exit 0
}
t0=$(date +%s)
expected=$(cat "$here/expected-events")

echo "== stage 1: packages and sandbox"
if dpkg -i /root/aimeter-debs/*.deb >"$here/dpkg.log" 2>&1; then
	ok "dpkg -i aimeter-agent aimeter-collector"
else
	cat "$here/dpkg.log"
	bad "dpkg -i failed"
	finish 1
fi
for u in aimeter-agent aimeter-collector; do
	id "$u" >/dev/null 2>&1 && ok "user $u" || bad "no user $u"
	[ "$(systemctl is-enabled "$u.service")" = enabled ] && ok "$u.service enabled" ||
		bad "$u.service not enabled"
done
[ "$(stat -c '%a %U' /etc/aimeter/enrollment-secret)" = "600 root" ] &&
	ok "/etc/aimeter/enrollment-secret 0600 root" || bad "enrollment-secret: $(stat -c '%a %U' /etc/aimeter/enrollment-secret)"
[ "$(systemctl show -P ConditionResult aimeter-collector.service)" = no ] &&
	ok "collector waits for its keys (condition not met, not failed)" ||
	bad "collector: $(systemctl show -P ActiveState,ConditionResult aimeter-collector.service)"

printf 'boot-probe-secret\n' >/etc/aimeter/enrollment-secret
sed -e "s|^ExecStart=.*|ExecStart=$here/boot-probe.sh|" -e 's|^Type=.*|Type=oneshot|' \
	-e '/^Restart/d' /lib/systemd/system/aimeter-agent.service \
	>/run/systemd/system/aimeter-agent-probe.service
systemctl daemon-reload
systemctl start aimeter-agent-probe.service && ok "sandbox probe passed" || bad "sandbox probe failed"
journalctl -q -o cat -u aimeter-agent-probe.service | sed 's/^/  /'
: >/etc/aimeter/enrollment-secret
[ "$fail" -eq 0 ] || finish 1

echo "== stage 2: the 10-minute path"
missing=""
aimeter-agent run --help >/dev/null 2>&1 || missing="$missing aimeter-agent-run"
aimeterctl init --help >/dev/null 2>&1 || missing="$missing aimeterctl-init"
aimeterctl enroll-token --help >/dev/null 2>&1 || missing="$missing aimeterctl-enroll-token"
if [ -n "$missing" ]; then
	echo "stage 2 cannot run yet, missing:$missing"
	finish 77
fi

# As docs/admin-10-minutes.md says, on the server:
aimeterctl init --server-name 127.0.0.1 >"$here/init.out" 2>&1 && ok "aimeterctl init" ||
	{ cat "$here/init.out"; bad "aimeterctl init failed"; finish 1; }
sed 's/^/  /' "$here/init.out"
i=0
until systemctl is-active --quiet aimeter-collector.service; do
	i=$((i + 1))
	[ "$i" -lt 30 ] || { bad "collector not active"; journalctl -u aimeter-collector -o cat | tail -n 20; finish 1; }
	sleep 1
done
ok "collector active"
secret=$(aimeterctl enroll-token create --expires 7d) || { bad "enroll-token create failed"; finish 1; }
# ... and on the workstation, what device management does:
(umask 077 && printf '%s\n' "$secret" >/etc/aimeter/enrollment-secret)
install -m 0644 /etc/aimeter/collector/tls.crt /etc/aimeter/collector-ca.pem
cat >/etc/aimeter/agent.conf.d/10-site.conf <<CONF
[server]
url = https://127.0.0.1:8443
ca_file = /etc/aimeter/collector-ca.pem
[agent]
settle_seconds = 1
CONF
systemctl restart aimeter-agent.service

count() { runuser -u postgres -- psql -d aimeter -Atc 'select count(*) from aimeter.usage_events' 2>/dev/null; }
i=0
until [ "$(count)" = "$expected" ]; do
	i=$((i + 1))
	if [ "$i" -ge 180 ]; then
		bad "after 180 s the database holds $(count) events, not $expected"
		journalctl -u aimeter-agent -u aimeter-collector -o cat | tail -n 40
		finish 1
	fi
	sleep 1
done
echo "install to all events in the database: $(($(date +%s) - t0)) s"
ok "alice's $expected events in the database"
sleep 5
[ "$(count)" = "$expected" ] && ok "and no more after 5 s" || bad "$(count) events after 5 s"
pid=$(systemctl show -P MainPID aimeter-agent.service)
grep -q '^CapEff:	0000000000000004$' "/proc/$pid/status" && ok "running agent: CAP_DAC_READ_SEARCH only" ||
	bad "running agent capabilities: $(grep CapEff "/proc/$pid/status")"
[ -s /var/lib/aimeter/device.token ] && ok "device enrolled" || bad "no device token"
[ "$fail" -eq 0 ] && finish 0
finish 1
