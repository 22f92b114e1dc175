#!/usr/bin/env bash
# tests/bench/idle.sh [GATEHOUSED]: bytes per idle keep-alive client
# connection (RSS growth over N=10,000 connections that each made one
# request, one worker) and resident memory at start, for gatehoused beside
# nginx and HAProxy in one run, all proxying to the same nginx origin.
#
# Environment: N (10000), SEQ=1 (read each answer before opening the next
# connection; default: send all N requests, then read), OUT
# (tests/bench/out; the table goes to idle.tsv).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
source "$here/lib.sh"
OUT=${OUT:-$here/out}
PROXY_PORT=$(free_port)
ORIGIN_PORT=$(free_port)
gh_build idle.sh "${1:-}"
bench_workdir gh-idle
mkdir -p "$work/www"
head -c 100 /dev/zero | tr '\0' a >"$work/www/small"
conns=$(( ${N:-10000} * 2 + 1000 ))
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$conns" -le "$hard" ] || conns=$hard
hconns=$(( ${N:-10000} + 50 )) # HAProxy warns when 2 fds each do not fit

start_origin rlimit="$conns" conns="$conns" backlog=4096 serve=root

nginx_conf "$work/nginx.conf" rlimit="$conns" conns="$conns" keepalive=16 backlog=4096
haproxy_cfg "$work/haproxy.cfg" maxconn="$hconns" fe_maxconn="$hconns" ulimit="$conns" \
	timeout=60s keepalive_timeout=60s
gh_new_db
gh_bench_db

report="$OUT/idle.tsv"
printf 'proxy\trss_at_start_kib\tbytes_per_idle_conn\n' >"$report"
for proxy in ${PROXIES:-gatehoused nginx haproxy}; do
	proxy_cmd "$proxy"
	line=$(/usr/bin/python3 "$here/idle.py" "$PROXY_PORT" -- "${proxy_argv[@]}" 2>>"$work/$proxy.err" | tail -1) || { grep -v NOTICE "$work/$proxy.err" | tail -3 >&2; line="failed"; }
	printf '%s\t%s\n' "$proxy" "$line" >>"$report"
	sleep 1
done
column -t -s$'\t' "$report"
