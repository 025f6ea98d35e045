#!/usr/bin/env bash
# test-fold.sh AIMETERCTL: the deferred fold of the rollups (issue 12,
# docs/write-path.md "The fold"). Batches written with the fold deferred,
# by two sessions at once while others fold, replays, a transaction killed
# between ingest and commit, a batch left unfolded (a collector that died
# before its fold), a reader (aimeterctl) folding first: in the end
# usage_daily, usage_monthly and device_identities equal what the stored
# events give, and no batch is folded twice or left out.
set -eu
ctl=$1
db=aimeter_test_fold_$$
export PGDATABASE=$db
cleanup() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; }
trap cleanup EXIT
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null
"$ctl" migrate >/dev/null
fail() { echo "not ok - $*"; exit 1; }
q() { psql -X -At -v ON_ERROR_STOP=1 -c "$1"; }

# batch_sql B N: batch B (its id and event ids derived from B) of N events
# from one device, three identities, over the last three days.
batch_sql() {
	cat <<SQL
SELECT inserted, duplicates FROM aimeter.ingest_rows(
  ARRAY[ROW(0, '00000000-0000-4000-8000-00000000000$(($1 % 2))'::uuid,
	    decode(lpad(to_hex($1), 32, '0'), 'hex'), $2, 0)::aimeter.stage_batch_template],
  ARRAY(SELECT ROW(0, g, decode(lpad(to_hex($1 * 100000 + g), 32, '0'), 'hex'),
		   date_trunc('hour', now()) - make_interval(hours => ($1 * 7 + g) % 72),
		   'claude-code', 'model-' || (g % 3), '', '',
		   decode(lpad(to_hex(g % 3), 64, '0'), 'hex'), '', 'api', 100 + g, 10, 0, 0, 0, 0, 0,
		   '', '', NULL)::aimeter.stage_event_template
	   FROM generate_series(0, $2 - 1) g));
SQL
}
deferred() { psql -X -At -v ON_ERROR_STOP=1 -c "BEGIN" -c "SET LOCAL aimeter.defer_fold = on" \
	-c "$(batch_sql "$1" "$2")" -c "COMMIT" >/dev/null; }

unfolded() { q "SELECT count(*) FROM aimeter.ingest_batches WHERE NOT folded"; }

# Every rollup row equals the events' GROUP BY, and no row is missing.
check_exact() {
	local bad
	bad=$(q "WITH e AS (SELECT (ts AT TIME ZONE 'UTC')::date AS day,
		coalesce(person_key, '') AS person_key, team_id, cost_center_id, tool, model,
		billing_mode, count(*) AS events, sum(input_tokens) AS input_tokens,
		sum(output_tokens) AS output_tokens, coalesce(sum(cost), 0) AS cost
		FROM aimeter.usage_events GROUP BY 1, 2, 3, 4, 5, 6, 7)
	SELECT count(*) FROM e FULL JOIN aimeter.usage_daily d USING (day, person_key, team_id,
		cost_center_id, tool, model, billing_mode)
	 WHERE e.events IS DISTINCT FROM d.events OR e.input_tokens IS DISTINCT FROM d.input_tokens
	    OR e.output_tokens IS DISTINCT FROM d.output_tokens OR e.cost IS DISTINCT FROM d.cost")
	[ "$bad" = 0 ] || fail "$1: $bad usage_daily rows differ from usage_events"
	bad=$(q "WITH e AS (SELECT date_trunc('month', ts AT TIME ZONE 'UTC')::date AS month,
		team_id, cost_center_id, tool, model, billing_mode, count(*) AS events,
		sum(input_tokens) AS input_tokens FROM aimeter.usage_events GROUP BY 1, 2, 3, 4, 5, 6)
	SELECT count(*) FROM e FULL JOIN aimeter.usage_monthly m USING (month, team_id,
		cost_center_id, tool, model, billing_mode)
	 WHERE e.events IS DISTINCT FROM m.events OR e.input_tokens IS DISTINCT FROM m.input_tokens")
	[ "$bad" = 0 ] || fail "$1: $bad usage_monthly rows differ from usage_events"
	bad=$(q "SELECT (SELECT count(*) FROM aimeter.usage_events WHERE device_id IS NOT NULL)
		 - (SELECT coalesce(sum(events), 0) FROM aimeter.device_identities)")
	[ "$bad" = 0 ] || fail "$1: device_identities count $bad events too few"
	echo "ok - $1: rollups equal the events"
}

# 1. Not deferred: exact at commit, as every caller before the fold saw it.
psql -X -At -v ON_ERROR_STOP=1 -c "$(batch_sql 1 50)" >/dev/null
[ "$(unfolded)" = 0 ] || fail "an undeferred batch was left unfolded"
check_exact "undeferred ingest"

# 2. Deferred: the batch waits, then one fold adds it.
deferred 2 40
[ "$(unfolded)" = 1 ] || fail "a deferred batch was folded at once"
[ "$(q "SELECT sum(events) FROM aimeter.usage_daily")" = 50 ] ||
	fail "a deferred batch reached the rollups before its fold"
[ "$(q "SELECT aimeter.fold_rollups()")" = 1 ] || fail "fold did not take the batch"
[ "$(q "SELECT aimeter.fold_rollups()")" = 0 ] || fail "a batch was folded twice"
check_exact "deferred then folded"

# 3. A fold meanwhile sees only committed batches: the open one is left
# for the next fold, not lost.
psql -X -At -v ON_ERROR_STOP=1 -c "BEGIN" -c "SET LOCAL aimeter.defer_fold = on" \
	-c "$(batch_sql 3 30)" -c "SELECT pg_sleep(1.5)" -c "COMMIT" >/dev/null &
open=$!
sleep 0.7
q "SELECT aimeter.fold_rollups()" >/dev/null
wait $open
[ "$(unfolded)" = 1 ] || fail "the batch committed after a fold is not pending"
q "SELECT aimeter.fold_rollups()" >/dev/null
check_exact "fold beside an open ingest"

# 4. Two writers and a folder at once, replays among them.
writer() { for b in "$@"; do deferred "$b" 25; done; }
writer 10 11 12 13 14 15 10 11 &
w1=$!
writer 20 21 22 23 24 25 12 20 &
w2=$!
# As the collector folds: identity counters left pending below 1024 rows.
( for _ in 1 2 3 4 5 6 7 8; do q "SELECT aimeter.fold_rollups(1024)" >/dev/null; sleep 0.1; done ) &
f=$!
wait $w1 $w2 $f
q "SELECT aimeter.fold_rollups()" >/dev/null
[ "$(unfolded)" = 0 ] || fail "batches left unfolded after the last fold"
[ "$(q "SELECT count(*) FROM aimeter.usage_events")" = $((50 + 40 + 30 + 12 * 25)) ] ||
	fail "replays changed the events"
check_exact "concurrent writers, folds and replays"

# 5. A writer killed before its commit leaves nothing; one that died
# before its fold leaves a pending batch that the next fold takes.
psql -X -At -c "BEGIN" -c "SET LOCAL aimeter.defer_fold = on" -c "$(batch_sql 30 20)" \
	-c "SELECT pg_sleep(30)" -c "COMMIT" >/dev/null 2>&1 &
killed=$!
sleep 1
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
wait $killed || true
deferred 31 20
[ "$(unfolded)" = 1 ] || fail "the batch of a writer that died before its fold is not pending"

# 6. A reader folds first: aimeterctl reads exact rollups.
"$ctl" report spend --month "$(date -u +%Y-%m)" --by tool >/dev/null
[ "$(unfolded)" = 0 ] || fail "aimeterctl did not fold before reading"
check_exact "after a crash, a reader folded"
echo "ok - fold"
