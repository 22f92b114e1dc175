#!/usr/bin/env bash
# tests/bench/routes.sh: request throughput with 10,000 routes on one
# listener against one route, on the same build in one run (issue 9).
#
# Two databases: one route (host h0.example), and 10,000 routes with hosts
# h0.example .. h9999.example on one listener; requests ask for the host of
# the last route in match order (h9999.example; h0.example with one route).
# gatehoused (one worker, pinned to PROXY_CPU) proxies to a small nginx
# origin; wrk drives keep-alive requests; rounds alternate (1, 10k, 1, ...)
# and the report gives median requests/s of each and their ratio (target:
# >= 0.95). Then the exact cost of one route_match(): instructions counted
# by callgrind in tests/bench/route_cost.c at 1 and 10,000 routes, and the
# old linear walk at 10,000 for comparison.
#
# Usage: tests/bench/routes.sh [GATEHOUSED]   (default: builds build-bench/)
# Environment: ROUTES (10000), ROUNDS (3), DURATION (8 s), WARMUP (2 s),
# CONNECTIONS (50), PROXY_CPU (0), ORIGIN_CPU (1), WRK_CPU (1), OUT.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
ROUTES=${ROUTES:-10000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-50}
ncpu=$(nproc)
PROXY_CPU=${PROXY_CPU:-0}
ORIGIN_CPU=${ORIGIN_CPU:-1}
if [ "$ncpu" -gt 2 ]; then WRK_CPU=${WRK_CPU:-2}; else WRK_CPU=${WRK_CPU:-1}; fi
source "$here/lib.sh"
PROXY_PORT=${PROXY_PORT:-$(free_port)}
ORIGIN_PORT=${ORIGIN_PORT:-$(free_port)}
OUT=${OUT:-$here/out}

command -v wrk >/dev/null || bash "$top/scripts/install-deps.sh" bench
command -v sqlite3 >/dev/null || bash "$top/scripts/install-deps.sh" build

gh_build routes.sh "${1:-}"
builddir=$(dirname "$gh")

bench_workdir gh-routes
raw="$OUT/routes.tsv"
printf 'round\troutes\trps\tp50_ms\tp99_ms\terrors\n' >"$raw"
start_origin

# make_db N: $work/db.N with N routes on one listener.
make_db() {
	local n=$1
	gh_new_db
	mv "$gh_db" "$work/db.$n"
	rm -f "$gh_db-wal" "$gh_db-shm"
	sqlite3 "$work/db.$n" <<EOF
PRAGMA foreign_keys=ON;
INSERT INTO listeners (name, address, port) VALUES ('bench', '127.0.0.1', $PROXY_PORT);
INSERT INTO origins (name) VALUES ('origin');
INSERT INTO servers (origin_id, address, port) VALUES (1, '127.0.0.1', $ORIGIN_PORT);
WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < $n)
INSERT INTO routes (name, listener_id, origin_id, hosts)
SELECT 'r' || i, 1, 1, json_array('h' || i || '.example') FROM c;
EOF
}
make_db 1
make_db "$ROUTES"

run_one() {
	local n=$1 round=$2 host="h$(($1 - 1)).example" row
	taskset -c "$PROXY_CPU" "$gh" --db "$work/db.$n" --workers 1 --access-log off \
	    --admin-listen off --log-level warn 2>>"$work/gatehoused.err" &
	proxy_pid=$!
	pids+=("$proxy_pid")
	for _ in $(seq 1 600); do
		curl -s -o /dev/null --max-time 1 -H "Host: $host" "http://127.0.0.1:$PROXY_PORT/" && break
		sleep 0.1
	done
	curl -s --max-time 2 -H "Host: $host" "http://127.0.0.1:$PROXY_PORT/" | grep -q "hello from the origin" ||
		{ echo "routes.sh: $n routes: no answer for $host" >&2; tail -5 "$work/gatehoused.err" >&2; exit 1; }
	taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -H "Host: $host" \
	    "http://127.0.0.1:$PROXY_PORT/" >/dev/null
	taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Host: $host" \
	    "http://127.0.0.1:$PROXY_PORT/" >"$work/wrk.out"
	row=$(/usr/bin/python3 "$here/report.py" --parse-wrk "$work/wrk.out")
	printf '%s\t%s\t%s\n' "$round" "$n" "$row" >>"$raw"
	echo "round $round: $n routes: $(echo "$row" | tr '\t' ' ')"
	stop_proxy_at "http://127.0.0.1:$PROXY_PORT/"
}

for round in $(seq 1 "$ROUNDS"); do
	run_one 1 "$round"
	run_one "$ROUTES" "$round"
done

/usr/bin/python3 - "$raw" "$ROUTES" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
n = sys.argv[2]
def med(k, col):
    return statistics.median(float(r[col]) for r in rows if r[1] == k and r[col])
one, many = med("1", 2), med(n, 2)
print("| routes on the listener | requests/s (median) | p50 ms | p99 ms |")
print("| --- | --- | --- | --- |")
print("| 1 | %.0f | %.3f | %.3f |" % (one, med("1", 3), med("1", 4)))
print("| %s | %.0f | %.3f | %.3f |" % (n, many, med(n, 3), med(n, 4)))
print("ratio %s/1 routes: %.3f (target >= 0.95)" % (n, many / one))
EOF

# The exact cost of one match: callgrind instruction counts.
if command -v valgrind >/dev/null; then
	cc -O2 -I"$top/daemon" -I"$builddir" "$here/route_cost.c" "$top/daemon/route.c" \
	    "$top/daemon/cfg_rseq.c" \
	    "$top/daemon/arena.c" "$top/daemon/err.c" -o "$work/route_cost"
	ir() {
		valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
		    --toggle-collect="$1" "$work/route_cost" "$2" 10000 ${3:-} >/dev/null 2>&1
		awk '/^totals:/ {printf "%.0f", $2 / 10000}' "$work/cg.out"
	}
	echo "instructions per match (callgrind): 1 route $(ir route_match 1)," \
	    "$ROUTES routes $(ir route_match "$ROUTES")," \
	    "old linear walk at $ROUTES routes $(ir bench_linear "$ROUTES" linear)"
fi
