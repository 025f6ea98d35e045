#!/usr/bin/env bash
# test-tools-known.sh AIMETERCTL SRCROOT: every tool the agent reads (the
# .name of each struct source_ops in agent/read/source-*.c) is a tool the
# database accepts. Ingest refuses an unknown tool ("unknown_tool"), so a
# reader added without its aimeter.tools row would lose every event it made.
set -eu
ctl=$1
src=$2
db=aimeter_test_tools_$$
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null
"$ctl" migrate --db "dbname=$db" >/dev/null
known=$(psql -X -At -d "$db" -c "SELECT tool FROM aimeter.tools ORDER BY 1")
names=$(sed -n 's/^[[:space:]]*\.name = "\([a-z0-9-]*\)",.*/\1/p' "$src"/agent/read/source-*.c | sort -u)
[ -n "$names" ] || { echo "not ok - no source names found under $src/agent/read"; exit 1; }
failed=0
for n in $names; do
	if printf '%s\n' "$known" | grep -qx -- "$n"; then
		echo "ok - $n is in aimeter.tools"
	else
		echo "not ok - the agent reads $n, but aimeter.tools has no such tool: add it in a migration"
		failed=1
	fi
done
exit $failed
