#!/usr/bin/env bash
# tests/bench/run.sh: gatehoused against nginx and HAProxy as reverse proxies.
#
# Each proxy runs alone, with one worker/thread, pinned to PROXY_CPU, in
# front of the same origin: nginx serving a small fixed response on
# ORIGIN_PORT, pinned to ORIGIN_CPU. All three proxies keep upstream
# connections alive. wrk (pinned to WRK_CPU) drives small keep-alive
# requests. Rounds are interleaved (g, n, h, g, n, h, ...) and the report
# gives medians: requests/s, p50 and p99 latency (wrk --latency), peak RSS
# (VmHWM of the proxy's processes, summed), the proxy's CPU per request split
# into user and system microseconds, its minor page faults per request
# (/proc/PID/stat fields 14, 15 and 10), the origin's CPU per request (its
# worker shares WRK_CPU with wrk: on two CPUs that CPU is the bottleneck,
# so what a proxy makes the origin do costs throughput) and each proxy's
# ratios to nginx: the median of its per-round ratios (each round against
# the nginx round next to it, robust to a round that drifted) with their
# range, and the ratio of the medians beside it (doc/performance.md).
#
# Usage: tests/bench/run.sh [GATEHOUSED]   (default: builds build-bench/)
# Then runs tls.sh and l4.sh with the same daemon (BENCH=http: skip them).
# Environment: ROUNDS (5), DURATION (10 s), WARMUP (2 s), CONNECTIONS (50),
# PROXY_CPU (0), ORIGIN_CPU (1), WRK_CPU (1, or 2 with > 2 CPUs),
# PROXY_PORT, ORIGIN_PORT (free ports), OUT (tests/bench/out), PERF=1:
# `perf record -e cpu-clock -C PROXY_CPU -g` during each measured run, to
# OUT/perf.PROXY.ROUND.data (`perf report -i ... --sort dso,sym`).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
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

bash "$top/scripts/install-deps.sh" bench
command -v sqlite3 >/dev/null || bash "$top/scripts/install-deps.sh" build

gh_build run.sh "${1:-}"

bench_workdir gh-bench
raw="$OUT/raw.tsv"
printf 'round\tproxy\trps\tp50_ms\tp99_ms\terrors\thwm_kb\tcpu_us_per_req\tuser_us_per_req\tsys_us_per_req\tminflt_per_req\torigin_cpu_us_per_req\n' >"$raw"

# proc_cpu PID: "utime stime minflt" (clock ticks, ticks, faults) of PID and
# its children, summed (/proc/PID/stat fields 14, 15 and 10; counted after
# the ")" that ends field 2, which may hold spaces).
proc_cpu() {
	local p
	for p in "$1" $(pgrep -P "$1" || true); do
		sed 's/.*) //' "/proc/$p/stat" 2>/dev/null || true
	done | awk '{u += $12; s += $13; f += $8} END {printf "%d %d %d\n", u, s, f}'
}

wait_port() { wait_url "http://127.0.0.1:$1/"; }

# -- origin: nginx, one worker, fixed small response ----------------------
start_origin

# -- the proxies ------------------------------------------------------------------
nginx_conf "$work/nginx.conf" body_temp=1
haproxy_cfg "$work/haproxy.cfg" maxconn=4096 server_maxconn=1000
gh_new_db
gh_bench_db

stop_proxy() { stop_proxy_at "http://127.0.0.1:$PROXY_PORT/"; }

echo "run.sh: $ROUNDS rounds x ${DURATION}s, $CONNECTIONS connections; proxy on CPU $PROXY_CPU," \
    "origin on CPU $ORIGIN_CPU, wrk on CPU $WRK_CPU"
for round in $(seq 1 "$ROUNDS"); do
	for proxy in gatehoused nginx haproxy; do
		start_proxy "$proxy"
		if ! wait_port "$PROXY_PORT" ||
		    ! curl -s --max-time 2 "http://127.0.0.1:$PROXY_PORT/" | grep -q "$ORIGIN_MARK"; then
			echo "round $round: $proxy does not proxy; skipped"
			tail -n 5 "$work/$proxy.err" 2>/dev/null || true
			printf '%s\t%s\t\t\t\t\t\n' "$round" "$proxy" >>"$raw"
			stop_proxy
			continue
		fi
		taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" \
		    "http://127.0.0.1:$PROXY_PORT/" >/dev/null
		c0=$(proc_cpu "$proxy_pid")
		perf_pid=
		if [ -n "${PERF:-}" ]; then
			# Where the proxy's CPU goes, kernel included (VMs
			# have no hardware counters: sample the CPU clock).
			mkdir -p "$OUT"
			perf record -q -e cpu-clock -C "$PROXY_CPU" -g \
			    -o "$OUT/perf.$proxy.$round.data" -- sleep "$DURATION" \
			    >/dev/null 2>&1 &
			perf_pid=$!
		fi
		o0=$(proc_cpu "$(cat "$work/origin.pid")")
		taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
		    "http://127.0.0.1:$PROXY_PORT/" >"$work/wrk.out"
		[ -z "$perf_pid" ] || wait "$perf_pid" || true
		c1=$(proc_cpu "$proxy_pid")
		o1=$(proc_cpu "$(cat "$work/origin.pid")")
		hwm=$(hwm_kb "$proxy_pid")
		row=$(/usr/bin/python3 "$here/report.py" --parse-wrk "$work/wrk.out")
		# The proxy's CPU microseconds per request served (all, user,
		# system) and its minor page faults per request.
		cpu=$(/usr/bin/python3 "$here/report.py" --per-request "$c0" "$c1" \
		    "$(echo "$row" | cut -f1)" "$DURATION")
		# The origin's (master and worker) CPU microseconds per request.
		ocpu=$(/usr/bin/python3 "$here/report.py" --per-request "$o0" "$o1" \
		    "$(echo "$row" | cut -f1)" "$DURATION" | cut -f1)
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$proxy" "$row" "$hwm" "$cpu" "$ocpu" >>"$raw"
		echo "round $round: $proxy $(echo "$row" | tr '\t' ' ') ${hwm}kB" \
		    "cpu/user/sys us, faults per request: $(echo "$cpu" | tr '\t' ' '), origin cpu us: $ocpu"
		stop_proxy
	done
done

/usr/bin/python3 "$here/report.py" --report "$raw" \
    --note "$ROUNDS rounds x ${DURATION}s, wrk -t1 -c$CONNECTIONS, $ncpu CPUs ($(uname -r)), $(date -u +%Y-%m-%d)" \
    | tee "$OUT/results.md"

# The TLS rows (termination with keep-alive, full handshakes) and the L4
# bulk row, with the same gatehoused; BENCH=http runs the table above only.
if [ "${BENCH:-all}" = all ]; then
	echo
	bash "$here/tls.sh" "$gh"
	echo
	bash "$here/l4.sh" "$gh"
fi
