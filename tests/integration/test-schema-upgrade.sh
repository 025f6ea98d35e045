#!/usr/bin/env bash
# test-schema-upgrade.sh AIMETERCTL: the schema as code (collector/ctl/migrate.h).
#  - A fresh install and a step-by-step upgrade from the first migration end
#    with the same pg_dump --schema-only (the diff is printed if not).
#  - A schema object whose text changed is applied again, alone; with
#    nothing changed, migrate does nothing.
set -eu
ctl=$1
fresh=aimeter_test_schema_fresh_$$
steps=aimeter_test_schema_steps_$$
tmp=$(mktemp -d)
failed=0
cleanup() {
	for d in "$fresh" "$steps"; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
ok() { echo "ok - $1"; }
fail() { echo "not ok - $1"; failed=1; }
expect() { [ "$2" = "$3" ] && ok "$1" || fail "$1: got '$2', want '$3'"; }
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
# pg_dump's \restrict lines carry a random key per run.
dump() { pg_dump --schema-only -d "$1" | grep -v '^\\\(un\)\?restrict '; }

for d in "$fresh" "$steps"; do
	psql -X -q -d postgres -c "CREATE DATABASE $d" >/dev/null
done

# --- fresh: one run ---------------------------------------------------------
out=$("$ctl" migrate --db "dbname=$fresh")
latest=$(echo "$out" | sed -n 's/^schema at version \([0-9]*\) .*/\1/p')
[ -n "$latest" ] && [ "$latest" -ge 1 ] || { echo "not ok - migrate said: $out"; exit 1; }
objects=$(q "$fresh" "SELECT count(*) FROM aimeter.schema_objects")
expect "a fresh install applies every migration and every schema object" \
	"$out" "schema at version $latest ($latest migration$([ "$latest" = 1 ] || echo s) applied), $objects schema objects applied"

# --- step by step: one aimeterctl run per versioned migration ----------------
# A step is one versioned migration. The schema objects (functions, triggers,
# views) are written for the latest tables, so they are applied only by the
# step that reaches the latest version: below it a view may name a column a
# later migration adds. That is also what an upgraded database sees: its
# pending migrations first, then the objects, in one run.
for v in $(seq 1 "$latest"); do
	out=$("$ctl" migrate --db "dbname=$steps" --to "$v")
	case $v in
	"$latest") want="schema at version $v (1 migration applied), $objects schema objects applied" ;;
	*) want="schema at version $v (1 migration applied), 0 schema objects applied" ;;
	esac
	[ "$out" = "$want" ] || fail "step $v: got '$out', want '$want'"
	if [ "$v" -lt "$latest" ]; then
		n=$(q "$steps" "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
				WHERE n.nspname IN ('aimeter', 'reporting')")
		[ "$n" = 0 ] || fail "step $v: $n functions before the latest version"
	fi
done
ok "an upgrade one migration at a time ($latest runs)"

dump "$fresh" >"$tmp/fresh.sql"
dump "$steps" >"$tmp/steps.sql"
if diff -u "$tmp/fresh.sql" "$tmp/steps.sql" >"$tmp/diff"; then
	ok "fresh and step-by-step schemas are identical ($(wc -l <"$tmp/fresh.sql") lines of pg_dump)"
else
	fail "fresh and step-by-step schemas differ:"
	cat "$tmp/diff"
fi

# --- repeatable objects -------------------------------------------------------
expect "migrate with nothing changed does nothing" \
	"$("$ctl" migrate --db "dbname=$fresh")" \
	"schema at version $latest (0 migrations applied), 0 schema objects applied"
expect "... nor does migrate --to the latest version" \
	"$("$ctl" migrate --db "dbname=$fresh" --to "$latest")" \
	"schema at version $latest (0 migrations applied), 0 schema objects applied"

# What a database holds after a build whose ensure_partition.sql read
# otherwise: that older body, and the digest of that older file.
q "$fresh" "SET ROLE aimeter_owner;
	CREATE OR REPLACE FUNCTION aimeter.ensure_partition(p_month date) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS \$\$ BEGIN RAISE EXCEPTION 'an older body'; END \$\$;
	UPDATE aimeter.schema_objects SET sha256 = repeat('0', 64)
	 WHERE name = 'functions/aimeter.ensure_partition'" >/dev/null
before=$(q "$fresh" "SELECT string_agg(name || applied_at, ',' ORDER BY name) FROM aimeter.schema_objects
		      WHERE name <> 'functions/aimeter.ensure_partition'")
expect "a changed schema object is applied again, alone" \
	"$("$ctl" migrate --db "dbname=$fresh")" \
	"schema at version $latest (0 migrations applied), 1 schema object applied"
expect "... the other objects untouched" \
	"$(q "$fresh" "SELECT string_agg(name || applied_at, ',' ORDER BY name) FROM aimeter.schema_objects
			WHERE name <> 'functions/aimeter.ensure_partition'")" "$before"
q "$fresh" "SELECT aimeter.ensure_partition('2031-02-01')" >/dev/null &&
	ok "... with the file's body" || fail "the file's body of ensure_partition"
psql -X -q -d "$fresh" -c "DROP TABLE aimeter.usage_events_203102" >/dev/null
dump "$fresh" >"$tmp/again.sql"
if diff -u "$tmp/steps.sql" "$tmp/again.sql" >"$tmp/diff"; then
	ok "... owner, SECURITY DEFINER and grants as before"
else
	fail "the schema after re-applying one object differs:"
	cat "$tmp/diff"
fi

set +e
"$ctl" migrate --db "dbname=$fresh" --to 1 >"$tmp/out" 2>&1
rc=$?
set -e
expect "migrate --to a version the database is past: refused" \
	"$rc:$(grep -c 'past 0001' "$tmp/out")" "1:1"

# --- one series -----------------------------------------------------------------
q "$fresh" "INSERT INTO aimeter.schema_migrations (version, name, sha256)
	VALUES ($((latest + 100)), 'from_a_newer_build', '')" >/dev/null
set +e
"$ctl" migrate --db "dbname=$fresh" >"$tmp/out" 2>&1
rc=$?
set -e
expect "a database with a migration this build lacks is refused" \
	"$rc:$(grep -c 'does not have as such' "$tmp/out")" "1:1"

exit $failed
