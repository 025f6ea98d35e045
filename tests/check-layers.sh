#!/bin/sh
# check-layers.sh NAME=LIBRARY...: show that the collector's modules call
# each other one way only. For each static library, nm lists the symbols it
# defines and the ones it needs; a module depends on another when it needs
# a symbol the other defines. Prints that graph, then fails (exit 1) if it
# has a cycle. Run by meson (test "collector-layers"); by hand:
#   tests/check-layers.sh main=build/collector/libamcollmain.a \
#     net=build/collector/net/libamcollnet.a ...
set -eu

[ $# -ge 2 ] || { echo "usage: $0 NAME=LIBRARY NAME=LIBRARY..." >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for arg in "$@"; do
	name=${arg%%=*}
	lib=${arg#*=}
	[ -f "$lib" ] || { echo "check-layers: no library \"$lib\" for $name" >&2; exit 2; }
	# Defined: global symbols of the module's own objects; code meson
	# generates into every user of a dependency (protobuf-c) is no module.
	nm -A -g --defined-only "$lib" 2>/dev/null |
		awk '$1 !~ /meson-generated_/ && NF == 3 { print $3 }' | sort -u >"$tmp/$name.def"
	nm -g --undefined-only "$lib" 2>/dev/null | awk 'NF >= 2 { print $NF }' | sort -u >"$tmp/$name.undef"
	echo "$name" >>"$tmp/names"
done

: >"$tmp/edges"
while read -r from; do
	while read -r to; do
		[ "$from" = "$to" ] && continue
		syms=$(comm -12 "$tmp/$from.undef" "$tmp/$to.def" | tr '\n' ' ')
		[ -n "$syms" ] || continue
		printf '%s %s\n' "$from" "$to" >>"$tmp/edges"
		printf '%s -> %s: %s\n' "$from" "$to" "$syms" >>"$tmp/graph"
	done <"$tmp/names"
done <"$tmp/names"

echo "collector module graph (module -> module it calls: symbols):"
if [ -s "$tmp/graph" ]; then
	sed 's/^/  /' "$tmp/graph"
fi
# Modules with no edge still appear in the order.
while read -r n; do printf '%s %s\n' "$n" "$n"; done <"$tmp/names" >>"$tmp/edges"
if ! tsort "$tmp/edges" >"$tmp/order" 2>"$tmp/loops"; then
	echo "check-layers: call cycle between collector modules:" >&2
	cat "$tmp/loops" >&2
	exit 1
fi
echo "layers, callers first: $(tr '\n' ' ' <"$tmp/order")"
