#!/usr/bin/env bash
# test-partition-race.sh AIMETERCTL: two writers meeting a month's first
# events together must both succeed (a month change under a pool of
# connections). Regression test for 42P07 from aimeter.ensure_partition.
set -eu
ctl=$1
db=aimeter_test_partrace_$$
export PGDATABASE=$db
cleanup() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; }
trap cleanup EXIT
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null
"$ctl" migrate >/dev/null

# Writer A creates the partition and holds its transaction open; writer B
# asks for the same month meanwhile and must see A's partition, not fail.
psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN; SELECT aimeter.ensure_partition('2031-01-01');
	SELECT pg_sleep(1.5); COMMIT;" >/dev/null &
a=$!
sleep 0.5
psql -X -q -v ON_ERROR_STOP=1 -c "SELECT aimeter.ensure_partition('2031-01-01')" >/dev/null
wait $a
n=$(psql -X -At -c "SELECT count(*) FROM pg_class WHERE relname = 'usage_events_203101'")
if [ "$n" != 1 ]; then
	echo "not ok - partition count $n, want 1"
	exit 1
fi
echo "ok - concurrent ensure_partition for one month"
