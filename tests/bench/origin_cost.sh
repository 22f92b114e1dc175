#!/usr/bin/env bash
# tests/bench/origin_cost.sh: the origin's user-space instructions per
# proxied request, behind gatehoused, nginx and HAProxy (callgrind:
# deterministic, usable on a busy machine).
#
# What a proxy sends the origin is work for the origin: on run.sh's
# two-CPU layout the origin shares the bottleneck CPU with wrk, so a
# heavier request head costs throughput though the proxy's own CPU does
# not show it. The origin (nginx, one process, master_process off) runs
# under valgrind --tool=callgrind and answers BODY_BYTES (16384) from a
# file; each proxy runs with one worker in front of it; a client sends N1,
# then (with a new origin) N2 sequential keep-alive GETs on one connection.
# A request's cost is the difference of the origin's instruction counts
# divided by N2 - N1, so start-up, the proxy's connect and shutdown cancel
# out. The report also gives the bytes of the request head the origin got
# (from its access log's $request_length).
#
# Usage: tests/bench/origin_cost.sh [GATEHOUSED]   (default: builds build-bench/)
# Environment: N1 (100), N2 (600), BODY_BYTES (16384), PROXIES ("gatehoused
# nginx haproxy"), OUT (tests/bench/out).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
N1=${N1:-100}
N2=${N2:-600}
BODY_BYTES=${BODY_BYTES:-16384}
PROXIES=${PROXIES:-gatehoused nginx haproxy}
source "$here/lib.sh"
PROXY_PORT=$(free_port)
ORIGIN_PORT=$(free_port)
OUT=${OUT:-$here/out}
command -v valgrind >/dev/null || { echo "origin_cost.sh: needs valgrind" >&2; exit 1; }
gh_build origin_cost.sh "${1:-}"
bench_workdir gh-origin-cost
origin_conf "$work/origin.conf" master=off conns=1024 log=len
nginx_conf "$work/nginx.conf" conns=1024 keepalive=16
haproxy_cfg "$work/haproxy.cfg"
gh_new_db
gh_bench_db

# origin_run PROXY N: the origin's instructions for N requests through PROXY.
origin_run() {
	local out="$work/cg.$1.$2" vpid
	: >"$work/origin.log"
	valgrind --tool=callgrind --callgrind-out-file="$out" \
	    nginx -c "$work/origin.conf" -e "$work/origin.err" 2>/dev/null &
	vpid=$!
	pids+=("$vpid")
	wait_url "http://127.0.0.1:$ORIGIN_PORT/" || { echo "origin did not start" >&2; exit 1; }
	start_proxy "$1"
	wait_url "http://127.0.0.1:$PROXY_PORT/" || { echo "$1 did not start" >&2; exit 1; }
	python3 - "$PROXY_PORT" "$2" "$BODY_BYTES" <<'EOF'
import http.client, sys
port, n, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", "/", headers={"Host": "bench.test"})
    r = c.getresponse()
    assert r.status == 200 and len(r.read()) == size
EOF
	stop_proxy_at "http://127.0.0.1:$PROXY_PORT/"
	kill -QUIT "$vpid"
	wait "$vpid" || true
	awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

report="$OUT/origin_cost.tsv"
printf 'proxy\torigin_instructions_per_request\trequest_head_bytes\n' >"$report"
for proxy in $PROXIES; do
	i1=$(origin_run "$proxy" "$N1")
	i2=$(origin_run "$proxy" "$N2")
	# The last line is a request of this run (wait_url's curls come first).
	head_bytes=$(tail -n 1 "$work/origin.log")
	printf '%s\t%d\t%s\n' "$proxy" "$(((i2 - i1) / (N2 - N1)))" "$head_bytes" >>"$report"
done
column -t -s$'\t' "$report"
