#!/bin/sh
# boot-inside.sh: runs inside the booted test container (the oneshot unit
# aimeter-boot-test.service), then powers the container off. Writes its log
# to /var/log/aimeter-boot-test.log and 0 (pass) or 1 (fail) to
# /var/log/aimeter-boot-test.status.
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
# The agent as installed, before device management has set anything: it
# stays up, idle, and says once what it waits for (no restart loop).
systemctl restart aimeter-agent.service
sleep 3
if [ "$(systemctl show -P ActiveState aimeter-agent.service)" = active ] &&
	[ "$(systemctl show -P NRestarts aimeter-agent.service)" = 0 ]; then
	ok "unconfigured agent stays active (no restart loop)"
else
	bad "unconfigured agent: $(systemctl show -P ActiveState,NRestarts aimeter-agent.service | tr '\n' ' ')"
	journalctl -q -o cat -u aimeter-agent | tail -n 5
fi
journalctl -q -o cat -u aimeter-agent | grep -q 'no collector URL configured' &&
	ok "and logs that no collector URL is configured" || bad "no log line about the missing URL"

i=0
until runuser -u postgres -- pg_isready -q; do
	i=$((i + 1))
	[ "$i" -lt 60 ] || { bad "PostgreSQL not ready"; finish 1; }
	sleep 1
done

# As docs/admin-10-minutes.md says, on the server:
aimeterctl init --server-name 127.0.0.1 >"$here/init.out" 2>&1 && ok "aimeterctl init" ||
	{ cat "$here/init.out"; bad "aimeterctl init failed"; finish 1; }
sed 's/^/  /' "$here/init.out"
[ "$(stat -c '%a %U' /etc/aimeter/collector)" = "700 root" ] &&
	[ "$(stat -c '%a %U' /etc/aimeter/collector/tls.key /etc/aimeter/collector/person.key | sort -u)" = "600 root" ] &&
	ok "keys 0600 root in /etc/aimeter/collector (0700)" || bad "key modes: $(ls -la /etc/aimeter/collector)"
i=0
until systemctl is-active --quiet aimeter-collector.service &&
	journalctl -q -o cat -u aimeter-collector | grep -q 'database ready'; do
	i=$((i + 1))
	[ "$i" -lt 30 ] || { bad "collector not ready"; journalctl -u aimeter-collector -o cat | tail -n 20; finish 1; }
	sleep 1
done
ok "collector active, its database ready (peer authentication as aimeter-collector)"
secret=$(aimeterctl enroll-token create --expires 7d 2>"$here/token.err") ||
	{ cat "$here/token.err"; bad "enroll-token create failed"; finish 1; }
case $secret in
amenroll_*) ok "enroll-token create printed a secret" ;;
*) bad "enroll-token create printed: $secret"; finish 1 ;;
esac
# ... and on the workstation, what device management does, with the lines
# init printed (URL, CA file, pin) and the new secret:
(umask 077 && printf '%s\n' "$secret" >/etc/aimeter/enrollment-secret)
install -m 0644 /etc/aimeter/collector/tls.crt /etc/aimeter/collector-ca.pem
{
	sed -n '/^\[server\]$/,/^$/p' "$here/init.out"
} >/etc/aimeter/agent.conf.d/10-site.conf
grep -q '^pin = sha256//' /etc/aimeter/agent.conf.d/10-site.conf &&
	ok "site settings from init's output: $(grep -c . /etc/aimeter/agent.conf.d/10-site.conf) lines" ||
	{ cat /etc/aimeter/agent.conf.d/10-site.conf; bad "init printed no [server] block"; finish 1; }
systemctl restart aimeter-agent.service

count() { runuser -u postgres -- psql -d aimeter -Atc 'select count(*) from aimeter.usage_events' 2>/dev/null; }
i=0
first=""
until [ "$(count)" = "$expected" ]; do
	[ -n "$first" ] || [ "$(count)" = 0 ] || first=$(($(date +%s) - t0))
	i=$((i + 1))
	if [ "$i" -ge 300 ]; then
		bad "after 300 s the database holds $(count) events, not $expected"
		journalctl -u aimeter-agent -u aimeter-collector -o cat | tail -n 40
		finish 1
	fi
	sleep 1
done
done_s=$(($(date +%s) - t0))
echo "TIMING: package install to first events in the database: ${first:-$done_s} s; to all $expected events: $done_s s"
echo "$done_s" >/var/log/aimeter-boot-test.seconds
ok "alice's $expected events in the database"
sleep 5
[ "$(count)" = "$expected" ] && ok "and no more after 5 s" || bad "$(count) events after 5 s"
pid=$(systemctl show -P MainPID aimeter-agent.service)
[ "$(stat -c %U "/proc/$pid")" = aimeter-agent ] && ok "running agent: user aimeter-agent" ||
	bad "running agent's user: $(stat -c %U "/proc/$pid")"
grep -q '^CapEff:	0000000000000004$' "/proc/$pid/status" && ok "running agent: CAP_DAC_READ_SEARCH only" ||
	bad "running agent capabilities: $(grep CapEff "/proc/$pid/status")"
# In the running agent's mount namespace, as its user with its one capability:
as_agent() {
	nsenter -t "$pid" -m -- setpriv --reuid=aimeter-agent --regid=aimeter-agent --clear-groups \
		--inh-caps=-all,+dac_read_search --ambient-caps=+dac_read_search \
		--bounding-set=-all,+dac_read_search -- sh -c "$1" 2>/dev/null
}
log=$(find /home/alice/.claude/projects -name '*.jsonl' | head -n 1)
as_agent "head -c 1 '$log' >/dev/null" && ok "in the agent's sandbox: alice's log is readable" ||
	bad "in the agent's sandbox: cannot read $log"
as_agent ": >>'$log'" && bad "in the agent's sandbox: can write $log" ||
	ok "in the agent's sandbox: alice's log is not writable"
as_agent ": >/home/alice/.aimeter-probe" && bad "in the agent's sandbox: can create in alice's home" ||
	ok "in the agent's sandbox: cannot create files in alice's home"
# CAP_DAC_READ_SEARCH could read the real file: InaccessiblePaths= puts an
# empty node over it in the agent's namespace.
as_agent "grep -q '^root:' /etc/shadow" && bad "in the agent's sandbox: /etc/shadow is readable" ||
	ok "in the agent's sandbox: /etc/shadow's content is not readable"
grep -q '^root:' /etc/shadow && ok "(outside it, /etc/shadow has a root line)" ||
	bad "/etc/shadow has no root line: the check above proves nothing"
[ "$(systemctl show -P NRestarts aimeter-agent.service)" = 0 ] && ok "agent never restarted" ||
	bad "agent restarted $(systemctl show -P NRestarts aimeter-agent.service) times"
[ -s /var/lib/aimeter/device.token ] && ok "device enrolled (token in /var/lib/aimeter)" || bad "no device token"
journalctl -q -o cat -u aimeter-agent | grep -q 'enrolled as device' && ok "agent logged its enrollment" ||
	bad "no enrollment in the agent's log"
aimeterctl enroll-token list | sed 's/^/  /'
[ "$(aimeterctl enroll-token list | awk '$2 == "active" && $5 == 1' | wc -l)" = 1 ] &&
	ok "enroll-token list: the secret enrolled one device" || bad "enroll-token list shows no device"
[ "$(runuser -u postgres -- psql -d aimeter -Atc "select count(*) from aimeter.enrollment_secrets
	where secret_hash = sha256(convert_to('$secret', 'UTF8'))")" = 1 ] &&
	ok "the database holds the secret's hash" || bad "no hash of the secret"
runuser -u postgres -- psql -d aimeter -Atc "select string_agg(s::text, ' ') from aimeter.enrollment_secrets s" |
	grep -qF "$secret" && bad "the secret itself is in the database" || ok "not the secret itself"
users=$(runuser -u postgres -- psql -d aimeter -Atc 'select count(distinct person_key) from aimeter.usage_events where person_key is not null')
[ "$users" = 1 ] && ok "events of one identity (alice)" || bad "events of $users identities"
[ "$fail" -eq 0 ] && finish 0
finish 1
