#!/usr/bin/env bash
# tests/bench/balance_wrk.sh: S1 throughput per balance algorithm (issue 13:
# least_conn and p2c cost at most 3% of S1 throughput against round_robin).
#
# gatehoused (one worker, pinned to PROXY_CPU) proxies small keep-alive
# requests (wrk, pinned to WRK_CPU) to an origin of three servers: one
# nginx (pinned to ORIGIN_CPU) listening on three ports with the small
# fixed answer of run.sh. Rounds are interleaved (round_robin, least_conn,
# p2c, round_robin, ...), each on a fresh daemon; the report gives the
# medians of requests/s and of the proxy's CPU microseconds per request,
# and each algorithm's ratio to round_robin. On a shared machine the
# spread between rounds is larger than the effect: read the spread too.
#
# Usage: flock /work/bench.lock tests/bench/balance_wrk.sh [GATEHOUSED]
#   (default: build/gatehoused of this tree, or build-bench/ as run.sh)
# Environment: ROUNDS (5), DURATION (10 s), WARMUP (2 s), CONNECTIONS (50),
# PROXY_CPU (0), ORIGIN_CPU (1), WRK_CPU (1), ALGORITHMS
# ("round_robin least_conn p2c"), OUT (tests/bench/out).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-50}
PROXY_CPU=${PROXY_CPU:-0}
ORIGIN_CPU=${ORIGIN_CPU:-1}
WRK_CPU=${WRK_CPU:-1}
ALGORITHMS=${ALGORITHMS:-round_robin least_conn p2c}
OUT=${OUT:-$here/out}
source "$here/lib.sh"
PROXY_PORT=$(free_port)
ORIGIN_PORTS="$(free_port) $(free_port) $(free_port)"

gh=${1:-}
if [ -z "$gh" ]; then
	for b in "$top/build/gatehoused" "$top/build-bench/gatehoused"; do
		[ -x "$b" ] && { gh=$b; break; }
	done
fi
[ -n "$gh" ] && [ -x "$gh" ] || { echo "balance_wrk.sh: no gatehoused (build it first)" >&2; exit 1; }
command -v wrk >/dev/null || bash "$top/scripts/install-deps.sh" bench

bench_workdir gh-balance
raw="$OUT/balance_wrk.tsv"
printf 'round\talgorithm\trps\tp50_ms\tp99_ms\terrors\tcpu_us_per_req\n' >"$raw"

# -- the origin: one nginx, three ports (lib.sh) -----------------------------
start_origin

# -- the daemon's database: one route to an origin of three servers ----------
gh_new_db
{
	echo "PRAGMA foreign_keys=ON;"
	echo "INSERT INTO listeners (name, address, port) VALUES ('bench', '127.0.0.1', $PROXY_PORT);"
	echo "INSERT INTO origins (name) VALUES ('origin');"
	for p in $ORIGIN_PORTS; do
		echo "INSERT INTO servers (origin_id, address, port) VALUES ((SELECT id FROM origins WHERE name = 'origin'), '127.0.0.1', $p);"
	done
	echo "INSERT INTO routes (name, listener_id, origin_id) VALUES ('all', (SELECT id FROM listeners WHERE name = 'bench'), (SELECT id FROM origins WHERE name = 'origin'));"
} | sqlite3 "$gh_db"

echo "balance_wrk.sh: $ROUNDS rounds x ${DURATION}s, $CONNECTIONS connections, 3 servers;" \
    "proxy on CPU $PROXY_CPU, origin on CPU $ORIGIN_CPU, wrk on CPU $WRK_CPU"
for round in $(seq 1 "$ROUNDS"); do
	for algo in $ALGORITHMS; do
		sqlite3 "$gh_db" "UPDATE origins SET balance_algorithm = '$algo'"
		taskset -c "$PROXY_CPU" "$gh" --db "$gh_db" --workers 1 --access-log off \
		    --admin-listen off --log-level warn 2>>"$work/gatehoused.err" &
		proxy_pid=$!
		if ! wait_url "http://127.0.0.1:$PROXY_PORT/"; then
			echo "round $round: $algo: gatehoused does not answer" >&2
			tail -n 5 "$work/gatehoused.err" >&2
			exit 1
		fi
		taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" \
		    "http://127.0.0.1:$PROXY_PORT/" >/dev/null
		t0=$(cpu_ticks "$proxy_pid")
		taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
		    "http://127.0.0.1:$PROXY_PORT/" >"$work/wrk.out"
		t1=$(cpu_ticks "$proxy_pid")
		row=$(/usr/bin/python3 "$here/report.py" --parse-wrk "$work/wrk.out")
		cpu_us=$(/usr/bin/python3 -c "import os,sys; t=int(sys.argv[1]); r=float(sys.argv[2]); d=float(sys.argv[3]); print('%.2f' % (t * 1e6 / os.sysconf('SC_CLK_TCK') / (r * d)) if r > 0 else '')" \
		    "$((t1 - t0))" "$(echo "$row" | cut -f1)" "$DURATION")
		printf '%s\t%s\t%s\t%s\n' "$round" "$algo" "$row" "$cpu_us" >>"$raw"
		echo "round $round: $algo $(echo "$row" | tr '\t' ' ') cpu_us/req $cpu_us"
		kill -TERM "$proxy_pid" 2>/dev/null || true
		wait "$proxy_pid" 2>/dev/null || true
	done
done

/usr/bin/python3 - "$raw" <<'EOF' | tee "$OUT/balance_wrk.md"
import statistics
import sys

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
by = {}
for r in rows:
    by.setdefault(r[1], []).append(r)
base = None
print("| algorithm | req/s median (min-max) | p99 ms median | CPU us/request median (min-max) | req/s vs round_robin | CPU/request vs round_robin |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for algo, rs in by.items():
    rps = [float(r[2]) for r in rs]
    p99 = [float(r[4]) for r in rs]
    cpu = [float(r[6]) for r in rs if r[6]]
    m = (statistics.median(rps), statistics.median(cpu) if cpu else 0)
    if base is None:
        base = m
    print("| %s | %.0f (%.0f-%.0f) | %.2f | %.2f (%.2f-%.2f) | %+.1f %% | %+.1f %% |" % (
        algo, m[0], min(rps), max(rps), statistics.median(p99), m[1],
        min(cpu) if cpu else 0, max(cpu) if cpu else 0,
        (m[0] / base[0] - 1) * 100, (m[1] / base[1] - 1) * 100 if base[1] else 0))
EOF
