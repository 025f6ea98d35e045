#!/usr/bin/env bash
# test-ctl-db.sh AIMETERCTL SOURCE_ROOT: aimeterctl and the schema against the
# PostgreSQL that tests/run started (PG* variables). Checks hand-computed
# spend, exactly-once replay, attribution as of event time, the roles, and
# bad input. No server is a failure, never a skip.
set -eu
# No pipefail: `grep -q` may close a pipe early on purpose.

ctl=$1
src=$2
fx=$src/tests/fixtures/db
db=aimeter_test_ctl_$$
tmp=$(mktemp -d)
export PGDATABASE=$db
fails=0

cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ${db}_old" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "not ok - $*"; fails=$((fails + 1)); }
ok() { echo "ok - $*"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# expect NAME ACTUAL EXPECTED
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got [$2], want [$3]"; fi
}
# numeq NAME SQL EXPECTED: exact numeric comparison in the database
numeq() {
	local got
	got=$(q "SELECT ($2) = $3::numeric")
	if [ "$got" = t ]; then ok "$1"; else fail "$1: $(q "SELECT ($2)") != $3"; fi
}

psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null

# --- migrate: idempotent, concurrent -----------------------------------------
"$ctl" migrate >"$tmp/m1" & "$ctl" migrate >"$tmp/m2" & wait
expect "two concurrent migrates apply once" \
	"$(cat "$tmp/m1" "$tmp/m2" | grep -c '(0 migrations applied)')" 1
"$ctl" migrate | grep -q '(0 migrations applied)' && ok "migrate again applies nothing" ||
	fail "migrate again"
expect "migrations recorded" "$(q 'SELECT count(*) > 0 FROM aimeter.schema_migrations')" t
# The fixture month must stay inside the backfill horizon whenever this runs.
q "UPDATE aimeter.settings SET backfill_horizon_months =
	(extract(year FROM age(now(), '2026-10-01')) * 12
	 + extract(month FROM age(now(), '2026-10-01')))::int + 6" >/dev/null

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/person.key"
chmod 600 "$tmp/person.key"
export AIMETER_PERSON_KEY_FILE=$tmp/person.key

# --- usage errors and --help ---------------------------------------------------
for c in migrate ingest "directory" prices report reattribute check; do
	"$ctl" $c --help >/dev/null && ok "$c --help" || fail "$c --help"
done
set +e
"$ctl" report spend --by team >/dev/null 2>&1; expect "missing --month is a usage error" $? 2
"$ctl" frobnicate >/dev/null 2>&1; expect "unknown command is a usage error" $? 2
chmod 644 "$tmp/person.key"
"$ctl" ingest "$fx/events.jsonl" >/dev/null 2>"$tmp/err"; rc=$?
chmod 600 "$tmp/person.key"
set -e
expect "a readable person-key file is refused" "$rc:$(grep -c 'group or others' "$tmp/err")" 1:1

# --- price book ----------------------------------------------------------------
"$ctl" prices import "$fx/prices.csv" | grep -q '5 added' && ok "prices import" || fail "prices import"
"$ctl" prices import "$fx/prices.csv" | grep -q '0 added, 5 already present' &&
	ok "identical re-import adds nothing" || fail "identical re-import"
"$ctl" prices import "$src/common/prices.csv" >/dev/null && ok "the shipped price book imports" ||
	fail "shipped price book"
q "DELETE FROM aimeter.prices WHERE source <> 'test'" >/dev/null 2>&1 &&
	fail "prices can be deleted" || ok "prices are append-only"
# The shipped book would also price the fixture models: keep only the test rows.
q "ALTER TABLE aimeter.prices DISABLE TRIGGER prices_append_only;
   DELETE FROM aimeter.prices WHERE source <> 'test';
   ALTER TABLE aimeter.prices ENABLE TRIGGER prices_append_only" >/dev/null
printf 'model_pattern,input_per_mtok,output_per_mtok\nx*,1,2\ny*,abc,2\n' >"$tmp/badprices.csv"
set +e
"$ctl" prices import "$tmp/badprices.csv" 2>"$tmp/err" >/dev/null; rc=$?
set -e
expect "malformed price row: exit 1 with file:line" \
	"$rc:$(grep -c "badprices.csv:3:" "$tmp/err")" 1:1
expect "malformed price file applies nothing" "$(q "SELECT count(*) FROM aimeter.prices WHERE model_pattern = 'x*'")" 0

# --- directory -------------------------------------------------------------------
set +e
"$ctl" directory import "$fx/members.csv" >/dev/null 2>"$tmp/err"; rc=$?
set -e
expect "unknown teams refused without --create-missing" \
	"$rc:$(grep -c 'unknown team "team-a"' "$tmp/err")" 1:1
expect "refused file applies nothing" "$(q 'SELECT count(*) FROM aimeter.people')" 0
"$ctl" directory import "$fx/teams.csv" >/dev/null && ok "teams import" || fail "teams import"
set +e
"$ctl" directory import "$fx/members.csv" >/dev/null 2>"$tmp/err"; rc=$?
set -e
expect "unknown cost centre refused without --create-missing" \
	"$rc:$(grep -c 'unknown cost centre "CC-X"' "$tmp/err")" 1:1
"$ctl" directory import --create-missing "$fx/members.csv" >/dev/null && ok "members import" ||
	fail "members import"
expect "two identities, one person" \
	"$(q "SELECT count(*) FROM aimeter.identities i JOIN aimeter.people p USING (person_id)
	      WHERE p.label = 'alice@example.com'")" 2
printf 'identity,team,cost_center,valid_from,valid_to\nzed@example.com,team-a,,2026-01-01,2026-06-01\nzed@example.com,team-b,,2026-05-01,\n' >"$tmp/overlap.csv"
set +e
"$ctl" directory import "$tmp/overlap.csv" >/dev/null 2>"$tmp/err"; rc=$?
set -e
expect "overlapping periods refused with file:line" \
	"$rc:$(grep -c 'overlap.csv:3: .*overlap line 2' "$tmp/err")" 1:1
printf 'identity,team,cost_center,valid_from,valid_to\nzed@example.com,team-a,,,\n"yan@example.com,team-b,,,\n' >"$tmp/badcsv.csv"
set +e
"$ctl" directory import "$tmp/badcsv.csv" >/dev/null 2>"$tmp/err"; rc=$?
set -e
expect "malformed CSV: exit 1 with file:line" "$rc:$(grep -c 'badcsv.csv:3:' "$tmp/err")" 1:1
expect "malformed CSV applies nothing" "$(q "SELECT count(*) FROM aimeter.people WHERE label = 'zed@example.com'")" 0

# --- ingest ----------------------------------------------------------------------
"$ctl" ingest "$fx/events.jsonl" >"$tmp/out" 2>"$tmp/err" && ok "ingest exits 0 with rejects" ||
	fail "ingest exit status"
expect "ingest counts" "$(cat "$tmp/out")" "inserted 16, duplicates 0, rejected 5"
expect "rejects reported by line" \
	"$(grep -c 'events.jsonl:\(17: event rejected: future_timestamp\|18: event rejected: beyond_horizon\|19: event rejected: unknown_tool\|20: event rejected: negative_count\|21: malformed event\)' "$tmp/err")" 5
expect "rejected events stored with reasons" \
	"$(q "SELECT string_agg(reason, ',' ORDER BY reason) FROM aimeter.rejected_events")" \
	"beyond_horizon,future_timestamp,negative_count,unknown_tool"
expect "rejected events carry no identity column" \
	"$(q "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'aimeter'
	      AND table_name = 'rejected_events' AND column_name IN ('user', 'identity', 'identity_hmac')")" 0

# Hand-computed costs (see tests/fixtures/db/events.jsonl).
cost_of() { echo "(SELECT cost FROM aimeter.usage_events WHERE event_id = '\\x$(printf '%032x' $((0xa1000000 + $1)))')"; }
numeq "plain sonnet with 5m and 1h cache writes, cache reads, web search" "$(cost_of 1)" 0.2505
numeq "long context prices every bucket at long rates" "$(cost_of 2)" 0.5325
numeq "exactly at the threshold is not long context" "$(cost_of 3)" 0.6
numeq "fast mode multiplies tokens, not web search" "$(cost_of 4)" 0.23
expect "unknown model is unpriced, not \$0" "$(q "SELECT coalesce(cost::text, 'null') || ',' || coalesce(price_id::text, 'null') FROM aimeter.usage_events WHERE model = 'mystery-model-1'")" "null,null"
numeq "codex: uncached input, cached at cache-read rate" "$(cost_of 6)" 0.0675
numeq "price effective from the 15th" "$(cost_of 7)" 0.128
numeq "empty cache rate means the input rate" "$(cost_of 8)" 0.102
expect "globs are case-sensitive" "$(q "SELECT cost IS NULL FROM aimeter.usage_events WHERE model = 'Claude-Sonnet-4-5'")" t
expect "longest pattern wins" "$(q "SELECT p.model_pattern FROM aimeter.usage_events e JOIN aimeter.prices p USING (price_id) WHERE e.event_id = '\\x$(printf '%032x' $((0xa1000001)))'")" "claude-sonnet-4-5*"

spend() { "$ctl" report spend --month 2026-10 --by "$1" --format csv; }
expect "spend by team (csv)" "$(spend team)" "team,events,cost_usd,subscription_usd,unpriced_events
team-a,11,4.760500,1.715000,2
team-b,4,4.500000,0.000000,0
unassigned,1,1.000000,0.000000,0"
expect "spend by cost centre: override wins, hint maps" "$(spend cost-center)" "cost_center,events,cost_usd,subscription_usd,unpriced_events
CC-A,11,4.760500,1.715000,2
CC-B,3,3.500000,0.000000,0
CC-X,1,1.000000,0.000000,0
unassigned,1,1.000000,0.000000,0"
expect "spend by tool" "$(spend tool)" "tool,events,cost_usd,subscription_usd,unpriced_events
codex,9,8.545500,0.000000,0
claude-code,7,1.715000,1.715000,2"
numeq "spend by model, unrounded" "SELECT cost_usd FROM reporting.spend_by_model WHERE month = '2026-10-01' AND model = 'gpt-5'" 8.478
expect "report unpriced lists the unknown models" "$("$ctl" report unpriced --format csv | cut -d, -f1,5 | LC_ALL=C sort)" "Claude-Sonnet-4-5,1
model,unpriced_events
mystery-model-1,1"
expect "report rejected" "$("$ctl" report rejected --format csv | cut -d, -f1,3 | LC_ALL=C sort | tr '\n' ' ')" \
	"beyond_horizon,1 future_timestamp,1 negative_count,1 reason,events unknown_tool,1 "
"$ctl" report spend --month 2026-10 --by team --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["team"]=="team-a" and d[0]["events"]==11 and d[0]["cost_usd"]==4.7605' &&
	ok "json output" || fail "json output"

# A person who changes team mid-month, by day.
expect "bob by day and team" "$(q "SELECT string_agg(d.day || ':' || t.name || ':' || trim_scale(d.cost), ' ' ORDER BY d.day)
	FROM aimeter.usage_daily d JOIN aimeter.teams t USING (team_id)
	JOIN aimeter.people p ON p.person_key = d.person_key WHERE p.label = 'bob@example.com'")" \
	"2026-10-10:team-a:1.25 2026-10-15:team-a:1.6 2026-10-16:team-b:1 2026-10-20:team-b:2"
expect "carol's override" "$(q "SELECT c.code FROM aimeter.usage_events e JOIN aimeter.cost_centers c USING (cost_center_id) WHERE e.event_id = '\\x$(printf '%032x' $((0xa1000000 + 14)))'")" CC-X
expect "check: default partition empty, no superuser definer" "$("$ctl" check)" "default partition: empty
definer functions: $(q "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE p.prosecdef AND n.nspname IN ('aimeter', 'reporting')"), none owned by a superuser"

# --- replay: every table and view unchanged except the batch log ---------------
checksum() {
	q "SELECT table_schema || '.' || table_name FROM information_schema.tables
	   WHERE table_schema IN ('aimeter', 'reporting') AND table_name <> 'ingest_batches'
	   ORDER BY 1" | while read -r rel; do
		printf '%s %s\n' "$rel" "$(q "SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM $rel x")"
	done
}
checksum >"$tmp/before"
batches_before=$(q "SELECT count(*) FROM aimeter.ingest_batches")
"$ctl" ingest "$fx/events.jsonl" >"$tmp/out" 2>/dev/null
expect "replay counts" "$(cat "$tmp/out")" "inserted 0, duplicates 16, rejected 5"
"$ctl" ingest - <"$fx/events.jsonl" >/dev/null 2>&1
checksum >"$tmp/after"
if diff "$tmp/before" "$tmp/after" >/dev/null; then
	ok "replay leaves $(wc -l <"$tmp/after") tables and views unchanged"
else
	fail "replay changed: $(diff "$tmp/before" "$tmp/after" | head -5)"
fi
expect "the batch log records the replays and their duplicates" \
	"$(q "SELECT count(*) || ':' || sum(inserted) || ':' || sum(duplicates) || ':' || sum(rejected) FROM aimeter.ingest_batches WHERE batch_ref > 0") $batches_before" \
	"3:16:32:12 1"

# --- roles ----------------------------------------------------------------------
as() { psql -X -q -At -c "SET ROLE $1" -c "$2" 2>&1; }
for rel in aimeter.usage_events aimeter.usage_events_202610 aimeter.identities aimeter.people aimeter.usage_daily aimeter.rejected_events; do
	as aimeter_reader "SELECT count(*) FROM $rel" | grep -q 'permission denied' &&
		ok "reader cannot select $rel" || fail "reader can select $rel"
done
# Three teams of one or two people: a plain reader sees them merged, finance each.
expect "reader reads the spend views, small teams merged" "$(as aimeter_reader "SELECT string_agg(team, ',') FROM reporting.spend_by_team WHERE month = '2026-10-01'")" "(small groups)"
expect "finance reads every team" "$(as aimeter_finance "SELECT count(*) FROM reporting.spend_by_team WHERE month = '2026-10-01'")" 3
for rel in aimeter.usage_events aimeter.identities; do
	as aimeter_ingest "SELECT count(*) FROM $rel" | grep -q 'permission denied' &&
		ok "ingest role cannot select $rel" || fail "ingest role can select $rel"
done
as aimeter_ingest "SELECT count(*) FROM reporting.spend_by_team" | grep -q 'permission denied' &&
	ok "ingest role cannot read reports" || fail "ingest role reads reports"
as aimeter_admin "SELECT count(*) FROM aimeter.identities" | grep -qx 4 &&
	ok "admin reads identities" || fail "admin reads identities"
expect "ingest through the ingest role (replay)" \
	"$("$ctl" ingest --db "dbname=$db options=-crole=aimeter_ingest" "$fx/events.jsonl" 2>/dev/null)" \
	"inserted 0, duplicates 16, rejected 5"
set +e
"$ctl" report spend --db "dbname=$db options=-crole=aimeter_reader" --month 2026-10 --by person >/dev/null 2>&1
expect "--by person refused to the reader" $? 1
set -e
expect "--by person for admin, keys only" \
	"$("$ctl" report spend --db "dbname=$db options=-crole=aimeter_admin" --month 2026-10 --by person --format csv | grep -c '@')" 0
expect "--reveal shows identities" \
	"$("$ctl" report spend --db "dbname=$db options=-crole=aimeter_admin" --month 2026-10 --by person --reveal --format csv | grep -c '^bob@example.com,4,5.850000,')" 1

# --- reattribute -----------------------------------------------------------------
printf 'identity,team,cost_center,valid_from,valid_to\nerin@example.com,team-b,,2026-10-01,\n' >"$tmp/erin.csv"
"$ctl" directory import "$tmp/erin.csv" >/dev/null
expect "reattribute moves erin" "$("$ctl" reattribute --identity Erin@Example.com)" "events moved: 1"
expect "spend by team after reattribute" "$(spend team)" "team,events,cost_usd,subscription_usd,unpriced_events
team-b,5,5.500000,0.000000,0
team-a,11,4.760500,1.715000,2
unassigned,0,0.000000,0.000000,0"
expect "daily rollup matches raw events" \
	"$(q "SELECT (SELECT sum(cost) FROM aimeter.usage_daily) = (SELECT sum(cost) FROM aimeter.usage_events)
	      AND (SELECT count(*) FROM aimeter.usage_daily WHERE team_id = 0) = 0")" t
# Per-person activity (0100) moves with the rollups: nobody counts in the old team too.
expect "activity after reattribute: only what usage_daily backs" \
	"$(q "SELECT count(*) FROM ((SELECT day, team_id, tool, person_key FROM aimeter.activity_daily
	      EXCEPT SELECT day, team_id, tool, person_key FROM aimeter.usage_daily WHERE person_key <> ''
	      EXCEPT SELECT day, team_id, '*', person_key FROM aimeter.usage_daily WHERE person_key <> '')
	     UNION ALL
	     (SELECT day, team_id, tool, person_key FROM aimeter.usage_daily WHERE person_key <> ''
	      UNION SELECT day, team_id, '*', person_key FROM aimeter.usage_daily WHERE person_key <> ''
	      EXCEPT SELECT day, team_id, tool, person_key FROM aimeter.activity_daily)) x")" 0
expect "activity of erin's old team is gone" \
	"$(q "SELECT count(*) FROM aimeter.activity_daily WHERE team_id = 0")$(q "SELECT count(*) FROM aimeter.activity_monthly WHERE team_id = 0")$(q "SELECT count(*) FROM aimeter.activity_weekly WHERE team_id = 0")" 000
expect "monthly and weekly activity follow the daily" \
	"$(q "SELECT count(*) FROM (SELECT date_trunc('month', day)::date AS p, team_id, tool, person_key, count(*)::int AS n
	      FROM aimeter.activity_daily GROUP BY 1, 2, 3, 4) d
	      FULL JOIN aimeter.activity_monthly m ON (m.month, m.team_id, m.tool, m.person_key) = (d.p, d.team_id, d.tool, d.person_key)
	     WHERE m.active_days IS DISTINCT FROM d.n")/$(q "SELECT count(*) FROM (SELECT date_trunc('week', day)::date AS p, team_id, tool, person_key, count(*)::int AS n
	      FROM aimeter.activity_daily GROUP BY 1, 2, 3, 4) d
	      FULL JOIN aimeter.activity_weekly w ON (w.week, w.team_id, w.tool, w.person_key) = (d.p, d.team_id, d.tool, d.person_key)
	     WHERE w.active_days IS DISTINCT FROM d.n")" 0/0
expect "first and last seen follow the daily" \
	"$(q "SELECT count(*) FROM (SELECT person_key, tool, min(day) AS f, max(day) AS l FROM aimeter.activity_daily GROUP BY 1, 2) d
	      FULL JOIN aimeter.activity_seen s USING (person_key, tool)
	     WHERE (s.first_day, s.last_day) IS DISTINCT FROM (d.f, d.l)")" 0

# --- a database migrated before 0006 (the owner role), as the superuser, is handed over -----------
# The old runner: each migration as the connecting superuser, no SET ROLE.
old=${db}_old
psql -X -q -d postgres -c "CREATE DATABASE $old" >/dev/null
PGDATABASE=$old psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning;
	CREATE SCHEMA aimeter; CREATE TABLE aimeter.schema_migrations (version int PRIMARY KEY,
	name text NOT NULL, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
for f in "$src"/collector/migrations/0*.sql; do
	b=$(basename "$f" .sql)
	[ "${b%%_*}" \< 0006 ] || continue
	PGDATABASE=$old psql -X -q -1 -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
		-f "$f" -c "INSERT INTO aimeter.schema_migrations VALUES
		($((10#${b%%_*})), '${b#*_}', '$(sha256sum "$f" | cut -d' ' -f1)')" >/dev/null
done
# The old runner made functions with the migrations, as the superuser too.
PGDATABASE=$old psql -X -q -1 -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
	-f "$src/collector/schema/functions/aimeter.ensure_partition.sql" >/dev/null
PGDATABASE=$old psql -X -q -c "SELECT aimeter.ensure_partition('2026-10-01')" >/dev/null
set +e
"$ctl" check --db "dbname=$old" >"$tmp/check" 2>&1; rc=$?
set -e
expect "check warns about the old superuser definers" \
	"$rc:$(grep -c 'is owned by the superuser postgres' "$tmp/check")" \
	"1:$(PGDATABASE=$old q "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
				WHERE p.prosecdef AND n.nspname IN ('aimeter', 'reporting')")"
newer=$(for f in "$src"/collector/migrations/0*.sql; do b=$(basename "$f"); [ "${b%%_*}" \< 0006 ] || echo; done | wc -l)
[ "$newer" -eq 1 ] && applied="1 migration applied" || applied="$newer migrations applied"
"$ctl" migrate --db "dbname=$old" | grep -q "($applied)" && ok "migrate an old database" ||
	fail "migrate an old database"
expect "the old database's objects now belong to aimeter_owner" \
	"$(PGDATABASE=$old q "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	      WHERE n.nspname IN ('aimeter', 'reporting') AND c.relowner <> 'aimeter_owner'::regrole")/$(
	   PGDATABASE=$old q "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	      WHERE n.nspname IN ('aimeter', 'reporting') AND p.proowner <> 'aimeter_owner'::regrole")/$(
	   PGDATABASE=$old q "SELECT count(*) FROM pg_namespace WHERE nspname IN ('aimeter', 'reporting')
	      AND nspowner <> 'aimeter_owner'::regrole")" 0/0/0
"$ctl" check --db "dbname=$old" >/dev/null && ok "check passes after the handover" ||
	fail "check after the handover"
PGDATABASE=$old q "UPDATE aimeter.settings SET backfill_horizon_months = $(q "SELECT backfill_horizon_months FROM aimeter.settings")" >/dev/null
expect "the handed-over write path works for the ingest role" \
	"$("$ctl" ingest --db "dbname=$old options=-crole=aimeter_ingest" "$fx/events.jsonl" 2>/dev/null)" \
	"inserted 16, duplicates 0, rejected 5"

echo "$fails failed"
[ "$fails" -eq 0 ]
