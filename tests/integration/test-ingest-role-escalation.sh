#!/usr/bin/env bash
# test-ingest-role-escalation.sh AIMETERCTL: issue 11's third attack, on the
# final schema. A login role holding only aimeter_ingest (and TEMP, as it
# must) plants temp tables and views under every name definer code ever read
# (pg_temp.am_stage*, am_act_new, am_work*, am_daily_new), with triggers and
# functions that try ALTER ROLE ... SUPERUSER and forbidden writes, then runs
# the write path and its trigger: it must gain nothing. Then: every definer
# function belongs to the non-superuser owner with a fixed search_path, and
# the per-event checks (reject_reason, caps, identities, pins) work for that
# role. Uses the PostgreSQL of tests/run (PG* variables, a superuser).
set -eu

ctl=$1
db=aimeter_test_escal_$$
att=am_attacker_$$
tmp=$(mktemp -d)
export PGDATABASE=$db
fails=0

cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $att" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "not ok - $*"; fails=$((fails + 1)); }
ok() { echo "ok - $*"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got [$2], want [$3]"; fi
}
# as_att: a script on stdin, run by the attacker's own login (not SET ROLE).
as_att() { psql -X -q -At -U "$att" "$@"; }

psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null
"$ctl" migrate >/dev/null
q "CREATE ROLE $att LOGIN; GRANT aimeter_ingest TO $att;
   CREATE TABLE public.canary (note text); REVOKE ALL ON public.canary FROM PUBLIC;
   INSERT INTO aimeter.teams (name) VALUES ('team-a'), ('team-b');
   INSERT INTO aimeter.devices (device_id, token_hash, hostname) VALUES
	('11111111-1111-1111-1111-111111111111', '\\x01', 'one'),
	('22222222-2222-2222-2222-222222222222', '\\x02', 'two'),
	('00000000-0000-0000-0000-000000000000', '\\x03', 'attack')" >/dev/null
settings_before=$(q "SELECT md5(s::text) FROM aimeter.settings s")

# --- the attack --------------------------------------------------------------
as_att >"$tmp/attack.out" 2>&1 <<'EOF' || true
-- Runs code as whoever calls it, and says who that was.
CREATE FUNCTION pg_temp.evil() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	RAISE WARNING 'evil ran as %', current_user;
	BEGIN
		EXECUTE format('ALTER ROLE %I SUPERUSER', session_user);
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	BEGIN
		INSERT INTO public.canary VALUES ('written as ' || current_user);
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	BEGIN
		INSERT INTO aimeter.audit_log (action) VALUES ('pwned');
		UPDATE aimeter.settings SET max_calls_per_minute = 1000000;
		GRANT aimeter_admin TO CURRENT_USER;
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	RETURN 0;
END
$$;
CREATE FUNCTION pg_temp.evil_tg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_temp.evil();
	RETURN NULL;
END
$$;
-- The staging tables as views that call it for every row read.
CREATE TEMP TABLE stage_rows (LIKE aimeter.stage_event_template);
CREATE TEMP TABLE batch_rows (LIKE aimeter.stage_batch_template);
CREATE TEMP VIEW am_stage AS SELECT r.* FROM stage_rows r WHERE pg_temp.evil() = 0;
CREATE TEMP VIEW am_stage_batch AS SELECT r.* FROM batch_rows r WHERE pg_temp.evil() = 0;
-- Every scratch table name definer code has used, with triggers.
CREATE TEMP TABLE am_act_new (day date, team_id int, tool text, person_key bytea);
CREATE TEMP TABLE am_daily_new (day date, person_key bytea, team_id int, tool text);
CREATE TEMP TABLE am_work_batch (batch_idx int, batch_ref bigint);
CREATE TEMP TABLE am_work (batch_idx int, ord int, reason text);
CREATE TEMP TABLE am_work_count (batch_idx int, inserted int);
INSERT INTO am_daily_new VALUES (current_date, '\xdead', 0, 'claude-code');
CREATE TRIGGER t1 BEFORE INSERT OR UPDATE OR DELETE ON am_act_new FOR EACH ROW EXECUTE FUNCTION pg_temp.evil_tg();
CREATE TRIGGER t2 BEFORE TRUNCATE ON am_act_new FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.evil_tg();
CREATE TRIGGER t3 BEFORE INSERT OR UPDATE OR DELETE ON am_work_batch FOR EACH ROW EXECUTE FUNCTION pg_temp.evil_tg();
CREATE TRIGGER t4 BEFORE INSERT OR UPDATE OR DELETE ON am_work FOR EACH ROW EXECUTE FUNCTION pg_temp.evil_tg();
CREATE TRIGGER t5 BEFORE INSERT OR UPDATE OR DELETE ON am_work_count FOR EACH ROW EXECUTE FUNCTION pg_temp.evil_tg();
CREATE TRIGGER t6 BEFORE INSERT OR UPDATE OR DELETE ON am_daily_new FOR EACH ROW EXECUTE FUNCTION pg_temp.evil_tg();
-- Shadows of aimeter's tables first on the path.
CREATE TEMP TABLE settings (x int);
CREATE TEMP TABLE tools (tool text);
SET search_path = pg_temp, public;
-- Events with identities, so usage_daily gains rows and its activity trigger runs.
INSERT INTO batch_rows VALUES (0, '00000000-0000-0000-0000-000000000000', '\xbb', 3, 0);
INSERT INTO stage_rows (batch_idx, ord, event_id, ts, tool, model, identity_hmac,
			input_tokens, output_tokens)
SELECT 0, g, decode(lpad(to_hex(4096 + g), 32, '0'), 'hex'), now() - interval '2 hours',
       'claude-code', 'm', decode(repeat(to_hex(10 + g), 32), 'hex'), 10, 1
  FROM generate_series(0, 2) g;
SELECT 'staged', inserted, rejected FROM aimeter.ingest_staged();
-- The definer itself, with rows made up by hand: values only.
SELECT 'direct', inserted FROM aimeter.ingest_rows(ARRAY[]::aimeter.stage_batch_template[],
	ARRAY[ROW(0, 0, decode(lpad(to_hex(8192), 32, '0'), 'hex'), now(), 'codex', 'm', '', '',
		  NULL, NULL, NULL, 1, 1, 0, 0, 0, 0, 0, '', '', NULL)::aimeter.stage_event_template]);
SELECT aimeter.register_enrollment_secret(decode(repeat('ab', 32), 'hex'), 'x');
SELECT aimeter.enroll_device(decode(repeat('cd', 32), 'hex'), 'h', 'o', 'v', '\x04');
-- What the role may not do directly.
INSERT INTO public.canary VALUES ('direct');
INSERT INTO aimeter.usage_daily SELECT * FROM aimeter.usage_daily;
SELECT count(*) FROM aimeter.identities;
ALTER FUNCTION aimeter.ingest_rows(aimeter.stage_batch_template[], aimeter.stage_event_template[]) SECURITY INVOKER;
CREATE TRIGGER t7 AFTER INSERT ON aimeter.usage_daily EXECUTE FUNCTION pg_temp.evil_tg();
EOF

expect "the planted hooks ran, as the attacker only" \
	"$(grep -o 'evil ran as [a-z_0-9]*' "$tmp/attack.out" | sort -u | tr '\n' ' ')" \
	"evil ran as $att "
expect "the write path worked through the planted views" \
	"$(grep -c '^staged|3|0$' "$tmp/attack.out")/$(grep -c '^direct|1$' "$tmp/attack.out")" 1/1
expect "the attacker is not a superuser" "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = '$att'")" f
expect "the attacker gained no role" \
	"$(q "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
	      WHERE r.rolname = '$att'")" 1
expect "nothing written to a table the attacker may not write" \
	"$(q "SELECT count(*) FROM public.canary")/$(q "SELECT count(*) FROM aimeter.audit_log WHERE action = 'pwned'")" 0/0
expect "settings unchanged" "$(q "SELECT md5(s::text) FROM aimeter.settings s")" "$settings_before"
expect "no trigger of the attacker on aimeter's tables" \
	"$(q "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'aimeter.usage_daily'::regclass
	      AND tgname = 't7'")" 0
expect "the activity trigger used its transition table, not the planted one" \
	"$(q "SELECT count(*) FILTER (WHERE person_key = '\\xdead') || '/' || count(*)
	      FROM aimeter.activity_daily")" 0/6
expect "the definer is still a definer" \
	"$(q "SELECT prosecdef FROM pg_proc WHERE oid = 'aimeter.ingest_rows(aimeter.stage_batch_template[], aimeter.stage_event_template[])'::regprocedure")" t

# --- ownership and search_path ---------------------------------------------------
expect "aimeter_owner is neither superuser nor login" \
	"$(q "SELECT rolsuper::text || rolcanlogin::text FROM pg_roles WHERE rolname = 'aimeter_owner'")" falsefalse
expect "every definer function belongs to aimeter_owner, with search_path pg_catalog, pg_temp" \
	"$(q "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	      WHERE p.prosecdef AND n.nspname IN ('aimeter', 'reporting')
		AND (p.proowner <> 'aimeter_owner'::regrole
		     OR NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false))")" 0
expect "there are definer functions to check" \
	"$(q "SELECT count(*) > 30 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	      WHERE p.prosecdef AND n.nspname IN ('aimeter', 'reporting')")" t
expect "every relation of aimeter and reporting belongs to aimeter_owner" \
	"$(q "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	      WHERE n.nspname IN ('aimeter', 'reporting') AND c.relowner <> 'aimeter_owner'::regrole")" 0
expect "ingest_staged runs as its caller" \
	"$(q "SELECT prosecdef FROM pg_proc WHERE oid = 'aimeter.ingest_staged()'::regprocedure")" f
"$ctl" check >"$tmp/check" && ok "aimeterctl check passes" || fail "aimeterctl check: $(cat "$tmp/check")"
q "ALTER FUNCTION aimeter.audit(text, text, jsonb) OWNER TO postgres" >/dev/null
"$ctl" check >"$tmp/check" && fail "check misses a superuser definer" ||
	expect "check names a superuser definer" \
		"$(grep -c 'aimeter.audit(text,text,jsonb) is owned by the superuser' "$tmp/check")" 1
q "ALTER FUNCTION aimeter.audit(text, text, jsonb) OWNER TO aimeter_owner" >/dev/null
# A trigger an admin planted before 0106 took TRIGGER away would run as the owner.
q "CREATE FUNCTION public.planted() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
   CREATE TRIGGER planted AFTER INSERT ON aimeter.usage_daily EXECUTE FUNCTION public.planted()" >/dev/null
"$ctl" check >"$tmp/check" && fail "check misses a foreign trigger" ||
	expect "check names a trigger calling a function of another owner" \
		"$(grep -c 'trigger planted on aimeter.usage_daily calls planted(), owned by postgres' "$tmp/check")" 1
q "DROP TRIGGER planted ON aimeter.usage_daily; DROP FUNCTION public.planted()" >/dev/null
q "GRANT TRIGGER ON aimeter.prices TO aimeter_admin" >/dev/null
"$ctl" check >"$tmp/check" && fail "check misses a TRIGGER grant" ||
	expect "check names a role that may add triggers" \
		"$(grep -c 'aimeter_admin may add triggers to aimeter.prices' "$tmp/check")" 1
q "REVOKE TRIGGER ON aimeter.prices FROM aimeter_admin" >/dev/null

# --- per-event checks, as the ingest role ----------------------------------------
# ev ORD ID TS IDENTITY_HEX HINT INPUT REASON: one staged row (SQL).
ev() {
	local ident=NULL hint=NULL reason=NULL
	[ -n "$4" ] && ident="decode('$4', 'hex')"
	[ -n "$5" ] && hint="'$5'"
	[ -n "$7" ] && reason="'$7'"
	printf "(0, %s, decode(lpad(to_hex(%s), 32, '0'), 'hex'), %s, 'claude-code', 'm', %s, %s, %s, 1, %s)" \
		"$1" "$2" "$3" "$ident" "$hint" "$6" "$reason"
}
# ingest DEVICE ROWS...: "inserted duplicates rejected new_identities reasons"
ingest() {
	local dev=$1
	shift
	local rows
	rows=$(IFS=,; echo "$*")
	as_att -v ON_ERROR_STOP=1 <<EOF
CREATE TEMP TABLE am_stage_batch (LIKE aimeter.stage_batch_template) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE am_stage (LIKE aimeter.stage_event_template) ON COMMIT DELETE ROWS;
BEGIN;
INSERT INTO am_stage_batch VALUES (0, '$dev', '\\x01', 0, 0);
INSERT INTO am_stage (batch_idx, ord, event_id, ts, tool, model, identity_hmac, team_hint,
		      input_tokens, output_tokens, reject_reason) VALUES $rows;
SELECT s.inserted || ' ' || s.duplicates || ' ' || s.rejected || ' ' || s.new_identities || ' '
       || coalesce((SELECT string_agg(r.value->>'ord' || ':' || (r.value->>'reason'), ','
				       ORDER BY (r.value->>'ord')::int)
		      FROM jsonb_array_elements(s.rejections) r), '-')
  FROM aimeter.ingest_staged() s;
COMMIT;
EOF
}
d1=11111111-1111-1111-1111-111111111111
d2=22222222-2222-2222-2222-222222222222
x=$(printf 'a1%.0s' $(seq 32))
y=$(printf 'b2%.0s' $(seq 32))
# Fixed times: a replay must send the same rows.
t0=$(q "SELECT date_trunc('minute', now()) - interval '1 hour'")
m="'$t0'::timestamptz"
q "UPDATE aimeter.settings SET max_calls_per_minute = 3" >/dev/null
batch=("$(ev 0 100 "$m" "$x" "" 1 "")" "$(ev 1 101 "$m" "$x" "" 1 "")"
       "$(ev 2 102 "$m" "$x" "" 1 "")" "$(ev 3 103 "$m" "$x" "" 1 "")"
       "$(ev 4 104 "$m" "$x" "" 1 "")"
       "$(ev 5 105 "'$t0'::timestamptz - interval '3 hours'" "$x" "" 100000001 "")"
       "(0, 6, decode(lpad(to_hex(106), 32, '0'), 'hex'), '$t0'::timestamptz - interval '3 hours', 'claude-code', 'm', decode('$x', 'hex'), NULL, 90000000, 90000000, NULL)"
       "$(ev 7 107 "'1969-12-31 23:59:59+00'" "$x" "" 1 "")"
       "$(ev 8 108 "'$t0'::timestamptz - interval '4 hours'" "$x" "" 1 "bad_timestamp")"
       "$(ev 9 109 "'$t0'::timestamptz - interval '4 hours'" "$x" "" 1 "collector_says_no")")
# Row 6: each count under the per-count cap, their sum over a lowered per-call cap.
q "UPDATE aimeter.settings SET max_tokens_per_call = 170000000" >/dev/null
expect "caps, bad timestamps and the collector's reasons, per event" "$(ingest $d1 "${batch[@]}")" \
	"3 0 7 0 3:implausible_rate,4:implausible_rate,5:implausible_count,6:implausible_count,7:bad_timestamp,8:bad_timestamp,9:collector_says_no"
expect "nothing inserted for a rejected event" \
	"$(q "SELECT count(*) FROM aimeter.usage_events WHERE event_id = decode(lpad(to_hex(109), 32, '0'), 'hex')")" 0
expect "the collector's reason is stored" \
	"$(q "SELECT count(*) FROM aimeter.rejected_events WHERE reason = 'collector_says_no'")" 1
rej_before=$(q "SELECT count(*) FROM aimeter.rejected_events")
expect "a replay: duplicates, the same rejects, none stored twice" "$(ingest $d1 "${batch[@]}")" \
	"0 3 7 0 3:implausible_rate,4:implausible_rate,5:implausible_count,6:implausible_count,7:bad_timestamp,8:bad_timestamp,9:collector_says_no"
expect "rejected_events unchanged by the replay" "$(q "SELECT count(*) FROM aimeter.rejected_events")" "$rej_before"
# The rate cap counts across calls (0108): the minute holds 3 stored events.
# Events without identities from here: the identity checks below count d1's.
expect "a later call in that minute is over the cap" \
	"$(ingest $d1 "$(ev 0 110 "$m" "" "" 1 "")")" "0 0 1 0 0:implausible_rate"
expect "another device's minute is its own" \
	"$(ingest $d2 "$(ev 0 111 "$m" "" "" 1 "")")" "1 0 0 0 -"
# A minute spread over two calls: 2 + 2 events, cap 3.
m2="'$t0'::timestamptz + interval '1 minute'"
first=("$(ev 0 120 "$m2" "" "" 1 "")" "$(ev 1 121 "$m2" "" "" 1 "")")
expect "two events of a fresh minute" "$(ingest $d1 "${first[@]}")" "2 0 0 0 -"
expect "the next call's second event is past the cap" \
	"$(ingest $d1 "$(ev 0 122 "$m2" "" "" 1 "")" "$(ev 1 123 "$m2" "" "" 1 "")")" \
	"1 0 1 0 1:implausible_rate"
counts() {
	q "SELECT coalesce((SELECT string_agg(calls::text, ',' ORDER BY device_id, minute)
			    FROM aimeter.device_minute_calls), '') || ' ' ||
		  coalesce((SELECT string_agg(tokens::text, ',' ORDER BY device_id, day)
			    FROM aimeter.device_day_tokens), '')"
}
counts_before=$(counts)
expect "a replay of the first call: duplicates, never rejected" "$(ingest $d1 "${first[@]}")" \
	"0 2 0 0 -"
expect "the replay changes no count" "$(counts)" "$counts_before"
expect "a new event in the full minute is still rejected" \
	"$(ingest $d1 "$(ev 0 124 "$m2" "" "" 1 "")")" "0 0 1 0 0:implausible_rate"
expect "the counts grew by the inserted events only" \
	"$(q "SELECT calls FROM aimeter.device_minute_calls WHERE device_id = '$d1' AND minute = $m2")" 3
q "UPDATE aimeter.settings SET max_calls_per_minute = DEFAULT, max_tokens_per_call = DEFAULT" >/dev/null

# The day's volume per device, across calls: each event 10^8 + 1 tokens
# (ev's output is 1), cap 3 * 10^8 + 3.
q "UPDATE aimeter.settings SET max_tokens_per_device_day = 300000003" >/dev/null
dd="(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '2 days' + interval '1 hour')"
vol() { printf "(0, %s, decode(lpad(to_hex(%s), 32, '0'), 'hex'), %s, 'claude-code', 'm', NULL, NULL, 100000000, 1, NULL)" "$1" "$2" "$3"; }
expect "two heavy events of a day" "$(ingest $d1 "$(vol 0 500 "$dd")" "$(vol 1 501 "$dd + interval '1 minute'")")" \
	"2 0 0 0 -"
expect "the next call reaches the day's cap at its second event" \
	"$(ingest $d1 "$(vol 0 502 "$dd + interval '2 minutes'")" "$(vol 1 503 "$dd + interval '3 minutes'")" \
		"$(ev 2 504 "$dd + interval '4 minutes'" "" "" 1 "")")" \
	"1 0 2 0 1:implausible_daily_volume,2:implausible_daily_volume"
expect "a replay of the first: duplicates" \
	"$(ingest $d1 "$(vol 0 500 "$dd")" "$(vol 1 501 "$dd + interval '1 minute'")")" "0 2 0 0 -"
expect "the day's tokens are the inserted events'" \
	"$(q "SELECT tokens FROM aimeter.device_day_tokens WHERE device_id = '$d1'
	      AND day = ($dd AT TIME ZONE 'UTC')::date")" 300000003
expect "the next day is a new day" \
	"$(ingest $d1 "$(vol 0 505 "$dd + interval '1 day'")")" "1 0 0 0 -"
expect "another device's day is its own" "$(ingest $d2 "$(vol 0 506 "$dd")")" "1 0 0 0 -"
q "UPDATE aimeter.settings SET max_tokens_per_device_day = DEFAULT" >/dev/null
for r in aimeter_reader aimeter_ingest aimeter_admin; do
	psql -X -q -At -c "SET ROLE $r" -c "SELECT count(*) FROM aimeter.device_minute_calls" 2>&1 |
		grep -q 'permission denied' && ok "$r cannot read the rate counts" ||
		fail "$r reads the rate counts"
done

# Identities per device.
expect "a new identity on a device that had one is counted" \
	"$(ingest $d1 "$(ev 0 200 "'$t0'::timestamptz - interval '5 hours'" "$y" "" 1 "")")" "1 0 0 1 -"
expect "then it is known" "$(ingest $d1 "$(ev 0 201 "'$t0'::timestamptz - interval '5 hours'" "$y" "" 1 "")")" "1 0 0 0 -"
expect "identities seen, with their events" \
	"$(q "SELECT string_agg(encode(identity_hmac, 'hex') || ':' || events, ' ' ORDER BY first_seen, identity_hmac)
	      FROM aimeter.device_identities WHERE device_id = '$d1'")" "$x:3 $y:2"
expect "the batch log keeps the count" "$(q "SELECT sum(new_identities) FROM aimeter.ingest_batches")" 1
for r in aimeter_reader aimeter_ingest; do
	psql -X -q -At -c "SET ROLE $r" -c "SELECT count(*) FROM aimeter.device_identities" 2>&1 |
		grep -q 'permission denied' && ok "$r cannot read device identities" ||
		fail "$r reads device identities"
done

# Pins.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/person.key"
chmod 600 "$tmp/person.key"
export AIMETER_PERSON_KEY_FILE=$tmp/person.key
expect "pin a device to identities" \
	"$("$ctl" device pin $d1 --identity Alice@Example.com,carol@example.com dave@example.com)" \
	"pinned $d1 to 3 identities"
alice=$(q "SELECT encode(p.identity_hmac, 'hex') FROM aimeter.device_pins p
	   WHERE p.identity_hmac = (SELECT identity_hmac FROM aimeter.device_pins
				     WHERE device_id = '$d1' ORDER BY pin_id LIMIT 1)")
expect "the pinned device: its identities in, others out" \
	"$(ingest $d1 "$(ev 0 300 "'$t0'::timestamptz - interval '6 hours'" "$alice" "" 1 "")" \
		"$(ev 1 301 "'$t0'::timestamptz - interval '6 hours'" "$y" "" 1 "")" \
		"$(ev 2 302 "'$t0'::timestamptz - interval '6 hours'" "" "team-a" 1 "")")" \
	"1 0 2 1 1:identity_not_allowed,2:identity_not_allowed"
expect "pin the device to a team too" "$("$ctl" device pin $d1 --team team-b)" "pinned $d1 to team team-b"
expect "the team's events in, by attribution" \
	"$(ingest $d1 "$(ev 0 303 "'$t0'::timestamptz - interval '6 hours'" "$y" "team-b" 1 "")" \
		"$(ev 1 304 "'$t0'::timestamptz - interval '6 hours'" "$y" "team-a" 1 "")")" \
	"1 0 1 0 1:identity_not_allowed"
set +e
"$ctl" device pin $d1 --team no-such-team >/dev/null 2>"$tmp/err"; rc=$?
set -e
expect "an unknown team is refused" "$rc:$(grep -c 'unknown team' "$tmp/err")" 1:1
"$ctl" device identities $d1 >"$tmp/ids"
expect "device identities lists what was seen and the pins" \
	"$(grep -c "^(unknown) $x  .* 3\$\|^(unknown) $alice  .* 1\$\|^pinned: team team-b\$\|^pinned: identity $alice\$" "$tmp/ids")" 4
q "INSERT INTO aimeter.enrollment_secrets (secret_hash, label) VALUES (decode(repeat('5e', 32), 'hex'), 't');
   UPDATE aimeter.devices SET enrolled_with = decode(repeat('5e', 32), 'hex') WHERE device_id = '$d2'" >/dev/null
expect "pin an enrollment secret" "$("$ctl" device pin --secret 5e5e5e5e --team team-a)" \
	"pinned $(printf '5e%.0s' $(seq 32)) to team team-a"
expect "its devices are bound" \
	"$(ingest $d2 "$(ev 0 400 "'$t0'::timestamptz - interval '7 hours'" "" "team-a" 1 "")" \
		"$(ev 1 401 "'$t0'::timestamptz - interval '7 hours'" "" "team-b" 1 "")")" \
	"1 0 1 0 1:identity_not_allowed"
expect "clear the pins" "$("$ctl" device pin $d1 --clear)" "removed 4 pins of $d1"
expect "an unpinned device speaks again" \
	"$(ingest $d1 "$(ev 0 305 "'$t0'::timestamptz - interval '6 hours'" "$y" "team-a" 1 "")")" "1 0 0 0 -"
expect "pins are audited" "$(q "SELECT count(*) FROM aimeter.audit_log WHERE action IN ('device_pin', 'device_unpin')")" 4

# Retention drops the caps' counts from before the backfill horizon only.
q "INSERT INTO aimeter.device_minute_calls VALUES ('$d2', now() - interval '14 months', 5);
   INSERT INTO aimeter.device_day_tokens VALUES ('$d2', current_date - 430, 5)" >/dev/null
calls_before=$(q "SELECT count(*) FROM aimeter.device_minute_calls")
days_before=$(q "SELECT count(*) FROM aimeter.device_day_tokens")
"$ctl" retention apply >/dev/null
expect "retention deletes the old counts, keeps the rest" \
	"$(q "SELECT count(*) FROM aimeter.device_minute_calls") $(q "SELECT count(*) FROM aimeter.device_day_tokens")" \
	"$((calls_before - 1)) $((days_before - 1))"

echo "$fails failed"
[ "$fails" -eq 0 ]
