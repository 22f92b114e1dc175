#!/usr/bin/env bash
# tests/bench/syscalls.sh: system calls per proxied keep-alive request,
# gatehoused beside nginx and HAProxy (deterministic: no timing involved).
#
# The origin (nginx) serves 100 B and 16 KiB files. Each proxy runs with
# one worker; a client sends REQUESTS sequential keep-alive requests on
# one connection for each size while `strace -c -f` is attached to the
# proxy; the report is the proxy's system calls divided by REQUESTS, with
# the three most frequent calls.
#
# Usage: tests/bench/syscalls.sh [GATEHOUSED]   (default: builds build-bench/)
# Environment: REQUESTS (3000), PROXIES ("gatehoused nginx haproxy"),
# OUT (tests/bench/out). The origin's worker is traced too: its system calls
# per request behind each proxy are the last column.
# ORIGIN_TLS=1: the origin serves HTTPS (a self-signed ECDSA certificate,
# TLS 1.2/1.3) and every proxy re-encrypts to it over pooled connections,
# verification off (gatehoused tls_verify 0, nginx's default, HAProxy
# "verify none"); the table goes to syscalls-origin-tls.tsv.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
REQUESTS=${REQUESTS:-3000}
source "$here/lib.sh"
PROXY_PORT=$(free_port)
ORIGIN_PORT=$(free_port)
OUT=${OUT:-$here/out}
command -v strace >/dev/null || apt-get install -y strace >/dev/null
gh_build syscalls.sh "${1:-}"
bench_workdir gh-syscalls
mkdir -p "$OUT" "$work/www"
head -c 100 /dev/zero | tr '\0' 'a' >"$work/www/small"
head -c 16384 /dev/zero | tr '\0' 'b' >"$work/www/big"

start_origin conns=1024 serve=root ${ORIGIN_TLS:+tls=1}

nginx_conf "$work/nginx.conf" conns=1024 keepalive=16
haproxy_cfg "$work/haproxy.cfg"
gh_new_db
gh_bench_db
if [ -n "${ORIGIN_TLS:-}" ]; then
	sed -i 's#proxy_pass http://origin;#proxy_pass https://origin;#' "$work/nginx.conf"
	sed -i '/^\tserver origin /s/$/ ssl verify none/' "$work/haproxy.cfg"
	sqlite3 "$gh_db" "UPDATE origins SET tls_enabled = 1, tls_verify = 0;"
fi

# client PATH N: N sequential keep-alive GETs on one connection.
client() {
	python3 - "$PROXY_PORT" "$1" "$2" <<'EOF'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", path, headers={"Host": "bench.test"})
    r = c.getresponse()
    body = r.read()
    assert r.status == 200 and len(body) in (100, 16384), (r.status, len(body))
EOF
}

report="$OUT/syscalls${ORIGIN_TLS:+-origin-tls}.tsv"
printf 'proxy\tsize\tsyscalls_per_request\ttop_calls\torigin_syscalls_per_request\n' >"$report"
for proxy in ${PROXIES:-gatehoused nginx haproxy}; do
	start_proxy "$proxy"
	wait_url "http://127.0.0.1:$PROXY_PORT/small" || { echo "$proxy did not start"; continue; }
	for path in small big; do
		client "/$path" 200 # warm: origin connections pooled
		# nginx and HAProxy may work in a child: trace them all
		attach=()
		for p in "$proxy_pid" $(pgrep -P "$proxy_pid" || true); do attach+=(-p "$p"); done
		strace -c -f "${attach[@]}" -o "$work/strace.$proxy.$path" 2>/dev/null &
		spid=$!
		strace -c -p "$(pgrep -P "$(cat "$work/origin.pid")" | head -1)" \
		    -o "$work/ostrace.$proxy.$path" 2>/dev/null &
		opid=$!
		sleep 1
		client "/$path" "$REQUESTS"
		kill -INT "$spid" "$opid"
		wait "$spid" || true
		wait "$opid" || true
		per=$(awk -v n="$REQUESTS" '/ total$/ {printf "%.2f", $4 / n}' "$work/strace.$proxy.$path")
		top3=$(awk -v n="$REQUESTS" '$NF != "total" && $1 ~ /^[0-9.]+$/ && NF >= 5 {printf "%s %.2f\n", $NF, $4 / n}' \
		    "$work/strace.$proxy.$path" | sort -k2 -nr | head -3 | paste -sd, -)
		oper=$(awk -v n="$REQUESTS" '/ total$/ {printf "%.2f", $4 / n}' "$work/ostrace.$proxy.$path")
		printf '%s\t%s\t%s\t%s\t%s\n' "$proxy" "$path" "$per" "$top3" "$oper" >>"$report"
		cp "$work/strace.$proxy.$path" "$OUT/strace.$proxy.$path.txt"
		cp "$work/ostrace.$proxy.$path" "$OUT/strace.origin-behind-$proxy.$path.txt"
	done
	stop_proxy_at "http://127.0.0.1:$PROXY_PORT/small"
done
column -t -s$'\t' "$report"
