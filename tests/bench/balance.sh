#!/usr/bin/env bash
# tests/bench/balance.sh: what each balance algorithm costs a request,
# counted exactly: tests/bench/balance_cost.c (the choice among N
# servers plus the live-state bookkeeping of one request) under callgrind,
# instructions per request, and the same timed (ns per request; noisy on
# a shared machine). Usage: tests/bench/balance.sh [N servers (3)].
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
n=${1:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
builddir="$top/build"
[ -f "$builddir/config.h" ] || builddir=$(dirname "$(ls "$top"/build*/config.h | head -1)")
cc -O2 -I"$top/daemon" -I"$builddir" "$here/balance_cost.c" "$top/daemon/balance.c" \
    "$top/daemon/server_live.c" -o "$work/balance_cost"
printf 'algorithm\tinstructions/request\tns/request\n'
names=(round_robin least_conn p2c hash random)
for a in 0 1 2 3 4; do
	ir=-
	if command -v valgrind >/dev/null; then
		valgrind --tool=callgrind --callgrind-out-file="$work/cg" \
		    --toggle-collect=bench_one "$work/balance_cost" "$n" 10000 "$a" >/dev/null 2>&1
		ir=$(callgrind_annotate "$work/cg" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f", $1 / 10000 }')
	fi
	ns=$("$work/balance_cost" "$n" 2000000 "$a" | awk '{ print $2 }')
	printf '%s\t%s\t%s\n' "${names[$a]}" "$ir" "$ns"
done
