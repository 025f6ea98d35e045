#!/usr/bin/env bash
# test-minute-race.sh AIMETERCTL: the rate cap's minute counts
# (aimeter.device_minute_calls) stay exact when the write path reads them by
# range and inserts fresh minutes without a conflict probe (issue 12): a
# minute stored by a concurrent writer meanwhile sends the call to the ON
# CONFLICT form, a stored minute is added to, stored minutes around the
# call's are read and left alone, and the cap sees what was stored.
set -eu
ctl=$1
db=aimeter_test_minrace_$$
export PGDATABASE=$db
cleanup() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; }
trap cleanup EXIT
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null
"$ctl" migrate >/dev/null
fail() { echo "not ok - $*"; exit 1; }
q() { psql -X -At -v ON_ERROR_STOP=1 -c "$1"; }

dev=00000000-0000-4000-8000-0000000000a1
m="(date_trunc('minute', now()) - interval '1 hour')"
# ingest ID OFFSET: one event of the device, OFFSET into minute m; prints
# "inserted duplicates rejected reasons".
ingest() {
	q "SELECT inserted, duplicates, rejected, rejections::text FROM aimeter.ingest_rows(
	  ARRAY[ROW(0, '$dev'::uuid, decode(lpad(to_hex($1), 32, '0'), 'hex'), 1, 0)
		::aimeter.stage_batch_template],
	  ARRAY[ROW(0, 0, decode(lpad(to_hex($1), 32, 'f'), 'hex'), $m + $2, 'claude-code', 'm',
		'', '', NULL, '', 'api', 1, 1, 0, 0, 0, 0, 0, '', '', NULL)
		::aimeter.stage_event_template])" | tr '|' ' '
}
calls() { q "SELECT coalesce(string_agg(calls::text, ',' ORDER BY minute), '-')
	       FROM aimeter.device_minute_calls WHERE device_id = '$dev'"; }

# Stored minutes before and after m, in the same UTC day range the call reads.
q "INSERT INTO aimeter.device_minute_calls VALUES ('$dev', $m - interval '5 minutes', 7),
	('$dev', $m + interval '5 minutes', 9)" >/dev/null

# A writer stores minute m and holds its transaction open; the call, which
# read no row for m, blocks on it and must still count exactly.
psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" \
	-c "INSERT INTO aimeter.device_minute_calls VALUES ('$dev', $m, 2)" \
	-c "SELECT pg_sleep(1.5)" -c "COMMIT" >/dev/null &
a=$!
sleep 0.5
got=$(ingest 1 "interval '10 seconds'")
wait $a
[ "$got" = "1 0 0 []" ] || fail "the racing call: $got, want 1 0 0 []"
[ "$(calls)" = "7,3,9" ] || fail "minute counts $(calls) after the race, want 7,3,9"
echo "ok - a minute stored meanwhile by another writer is added to, not lost"

got=$(ingest 2 "interval '20 seconds'")
[ "$got" = "1 0 0 []" ] || fail "a call into a stored minute: $got"
[ "$(calls)" = "7,4,9" ] || fail "minute counts $(calls), want 7,4,9"
got=$(ingest 3 "interval '2 minutes'")
[ "$got" = "1 0 0 []" ] || fail "a call into a fresh minute: $got"
[ "$(calls)" = "7,4,1,9" ] || fail "minute counts $(calls), want 7,4,1,9"
echo "ok - stored minutes are added to, fresh ones inserted, the others left alone"

q "UPDATE aimeter.settings SET max_calls_per_minute = 4" >/dev/null
got=$(ingest 4 "interval '30 seconds'")
[ "$got" = '0 0 1 [{"ord": 0, "reason": "implausible_rate"}]' ] ||
	fail "the cap missed the stored minute: $got"
got=$(ingest 5 "interval '5 minutes 10 seconds'")
[ "$got" = '0 0 1 [{"ord": 0, "reason": "implausible_rate"}]' ] ||
	fail "the cap missed a stored minute the call did not touch before: $got"
[ "$(calls)" = "7,4,1,9" ] || fail "a rejected call changed the counts: $(calls)"
echo "ok - the cap reads the stored minutes of the call's range"
