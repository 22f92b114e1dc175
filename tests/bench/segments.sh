#!/usr/bin/env bash
# tests/bench/segments.sh: what a proxy makes its peers do per keep-alive
# request (TCP segments by socket pair, the peers' CPU, context switches
# and wakeups), gatehoused beside nginx and HAProxy.
#
# On loopback the kernel processes a segment in the sender's context, and
# on a two-CPU machine the origin and wrk share CPU 1 (run.sh's layout),
# the bottleneck: segments, ACKs and wakeups a proxy causes its peers cost
# throughput even when the proxy's own CPU is low. The script runs in a
# network namespace of its own (unshare -n, as root), so the counters
# (/proc/net/snmp, /proc/net/netstat) see only this run. The origin
# (nginx, start_origin) answers BODY_BYTES; each proxy runs with one
# worker, pinned like run.sh; wrk -c CONNECTIONS runs, and after 1 s a
# snapshot (cat and ss only), DURATION seconds, another snapshot, all under
# `perf stat -e sched:sched_wakeup` of the three processes. segsnap.py
# divides by the requests served in between (the bytes the proxy received
# on wrk's connections, which live throughout, over the request's size):
#   segs                 every TCP segment in the namespace
#   segs_client_pair     segments on wrk<->proxy connections, both ways
#   segs_origin_pair     the rest: proxy<->origin, both ways
#   acks_*               of those, segments without data
#   delayed_acks         TcpExtDelayedACKs (the delayed-ACK timer fired)
#   origin_opens         origin connections opened
#   origin_conns_used    the proxy's origin connections that sent a request
#                        (open at the end of the interval)
#   resp_bytes_to_client, req_bytes_to_origin   bytes per request
#   {origin,wrk,proxy}_{cpu_us,cswitch,syscalls,wakeups}   CPU (ticks of
#                        /proc/PID/stat), context switches, system calls
#                        (SYSCALLS=1 only: the tracepoint slows the run)
#                        and wakeups it caused, per request
# Segment and byte counts hardly depend on load; CPU and context switches
# do (run it on a quiet machine, or read them as indicative).
#
# Usage: tests/bench/segments.sh [GATEHOUSED]   (default: builds build-bench/)
# Environment: BODY_BYTES (16384), CONNECTIONS (50), DURATION (5),
# ROUNDS (1), PROXIES ("gatehoused nginx haproxy"), SYSCALLS (unset),
# PERF=DIR: also `perf record -g` WRK_CPU into DIR/perf.PROXY.ROUND.data,
# PROXY_CPU (0), ORIGIN_CPU (1), WRK_CPU (1), OUT (tests/bench/out).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
if [ -z "${SEGMENTS_NETNS:-}" ]; then
	# Root (or user namespaces) needed; the counters are then ours alone.
	exec env SEGMENTS_NETNS=1 unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' \
	    "${BASH_SOURCE[0]}" "$@"
fi
BODY_BYTES=${BODY_BYTES:-16384}
CONNECTIONS=${CONNECTIONS:-50}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-1}
PROXIES=${PROXIES:-gatehoused nginx haproxy}
PROXY_CPU=${PROXY_CPU:-0}
ORIGIN_CPU=${ORIGIN_CPU:-1}
WRK_CPU=${WRK_CPU:-1}
source "$here/lib.sh"
PROXY_PORT=$(free_port)
ORIGIN_PORT=$(free_port)
OUT=${OUT:-$here/out}
gh_build segments.sh "${1:-}"
bench_workdir gh-segments

start_origin
nginx_conf "$work/nginx.conf" body_temp=1
haproxy_cfg "$work/haproxy.cfg" maxconn=4096 server_maxconn=1000
gh_new_db
gh_bench_db

# snap FILE NAME=PID[,PID...]...: the counters segsnap.py reads, taken with
# cat and ss only, so that the two snapshots bracket what perf counted.
snap() {
	local out=$1 spec pid pids
	shift
	{
		echo "== snmp"; cat /proc/net/snmp
		echo "== netstat"; cat /proc/net/netstat
		echo "== ss"; ss -tinH state established
		for spec in "$@"; do
			pids=${spec#*=}
			echo "== ${spec%%=*}.stat"
			for pid in ${pids//,/ }; do cat "/proc/$pid/stat"; done
			echo "== ${spec%%=*}.status"
			for pid in ${pids//,/ }; do cat /proc/"$pid"/task/*/status; done
			echo "== ${spec%%=*}.tids"
			for pid in ${pids//,/ }; do ls "/proc/$pid/task"; done
		done
	} >"$out"
}

# CPU 1's two tenants, the origin's worker (the child of its master) and
# wrk, and the proxy (all its processes and threads): CPU, context
# switches, system calls and wakeups of each, per request.
origin_worker() { pgrep -P "$(cat "$work/origin.pid")" | head -1; }
req_bytes=$(printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' "$PROXY_PORT" | wc -c)

report="$OUT/segments.tsv"
printf 'round\tproxy\t%s\n' "$(python3 "$here/segsnap.py" header)" >"$report"
for round in $(seq 1 "$ROUNDS"); do
	for proxy in $PROXIES; do
		start_proxy "$proxy"
		wait_url "http://127.0.0.1:$PROXY_PORT/" || { echo "$proxy did not start"; continue; }
		# The interval is DURATION seconds in the middle of wrk's run,
		# while all its connections are open; it is stopped after.
		taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d1h \
		    "http://127.0.0.1:$PROXY_PORT/" >"$work/wrk.out" &
		wrk_pid=$!
		sleep 1
		procs=(origin="$(origin_worker)" wrk="$wrk_pid"
		    proxy="$(echo "$proxy_pid" $(pgrep -P "$proxy_pid" || true) | tr ' ' ,)")
		export -f snap
		rec=()
		[ -z "${PERF:-}" ] || rec=(perf record -q -e cpu-clock -C "$WRK_CPU" -g
		    -o "$PERF/perf.$proxy.$round.data" --)
		perf stat --per-thread -x, -e "sched:sched_wakeup${SYSCALLS:+,raw_syscalls:sys_enter}" \
		    -p "$(echo "${procs[@]#*=}" | tr ' ' ,)" -o "$work/perfstat" -- \
		    "${rec[@]}" bash -c 'snap "$1" "${@:3}"; sleep "$2"; snap "$1.after" "${@:3}"' \
		    snap "$work/before" "$DURATION" "${procs[@]}" 2>/dev/null
		kill "$wrk_pid"
		wait "$wrk_pid" || true
		printf '%s\t%s\t%s\n' "$round" "$proxy" \
		    "$(python3 "$here/segsnap.py" diff "$work/before" "$work/before.after" "$work/perfstat" \
		    "$PROXY_PORT" "$ORIGIN_PORT" "$req_bytes" "${procs[@]}")" >>"$report"
		stop_proxy_at "http://127.0.0.1:$PROXY_PORT/"
	done
done
column -t -s$'\t' "$report"
