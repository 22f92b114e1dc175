#!/usr/bin/env bash
# tests/bench/tls.sh: TLS termination, gatehoused against nginx and HAProxy
# with the same certificate and key, as two rows:
#   tls-keepalive   requests/s over kept-alive TLS connections
#   tls-handshakes  full handshakes/s: every request on a new connection
#                   ("Connection: close"), with session resumption off in
#                   all three (wrk would resume: GATEHOUSE_TLS_TICKETS=off,
#                   nginx ssl_session_tickets off, HAProxy no-tls-tickets)
#   hey-handshakes  the same with Go's TLS client: hey -disable-keepalive
#                   (skipped when hey is not installed)
#
# Each proxy runs alone with one worker/thread pinned to PROXY_CPU and
# proxies to the same plain-HTTP origin (nginx, fixed small response) with
# upstream keep-alive. The three proxies offer the same protocol posture:
# TLS 1.2/1.3, ECDHE, AEAD. The certificate is made by certtool at run
# time (KEY=ecdsa for ECDSA P-256, the default, or KEY=rsa for RSA 2048).
# Rounds are interleaved (g, n, h, g, ...); the report (report.py, as
# run.sh's) gives each proxy's median, the median of its per-round ratios to
# nginx and the ratio of the medians, and writes $OUT/tls.tsv (raw) and
# $OUT/tls.md (the table for doc/performance.md).
#
# Usage: tests/bench/tls.sh [GATEHOUSED]  (default: build-bench/gatehoused,
# built by run.sh). Environment: ROUNDS (5), DURATION (10 s), WARMUP (2 s),
# CONNECTIONS (50), KEY (ecdsa), PROXY_CPU (0), ORIGIN_CPU (1), WRK_CPU (1,
# or 2 with > 2 CPUs), OUT (tests/bench/out).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-50}
KEY=${KEY:-ecdsa}
ncpu=$(nproc)
PROXY_CPU=${PROXY_CPU:-0}
ORIGIN_CPU=${ORIGIN_CPU:-1}
if [ "$ncpu" -gt 2 ]; then WRK_CPU=${WRK_CPU:-2}; else WRK_CPU=${WRK_CPU:-1}; fi
OUT=${OUT:-$here/out}
source "$here/lib.sh"
PROXY_PORT=$(free_port)
ORIGIN_PORT=$(free_port)

bash "$top/scripts/install-deps.sh" bench build >/dev/null

gh=${1:-$top/build-bench/gatehoused}
[ -x "$gh" ] || { echo "tls.sh: no gatehoused at $gh (run tests/bench/run.sh once, or pass a path)" >&2; exit 1; }

bench_workdir gh-tls-bench
raw="$OUT/tls.tsv"
printf 'round\tproxy\ttest\trps\tp99_ms\terrors\n' >"$raw"

# -- the certificate --------------------------------------------------------
case "$KEY" in
ecdsa) keyargs=(--key-type ecdsa --curve secp256r1) ;;
rsa) keyargs=(--key-type rsa --bits 2048) ;;
*) echo "tls.sh: KEY is ecdsa or rsa" >&2; exit 2 ;;
esac
certtool --generate-privkey "${keyargs[@]}" --no-text --outfile "$work/key.pem" 2>/dev/null
printf 'cn = "bench.test"\ndns_name = "bench.test"\nexpiration_days = 7\ntls_www_server\nsigning_key\nencryption_key\n' >"$work/cert.tmpl"
certtool --generate-self-signed --load-privkey "$work/key.pem" --template "$work/cert.tmpl" \
    --outfile "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/haproxy.pem"

url="https://127.0.0.1:$PROXY_PORT/"
wait_tls() { wait_url "$url" -k; }

# -- origin -------------------------------------------------------------------
start_origin

# -- the proxies --------------------------------------------------------------
# write_configs on|off: session resumption (tickets) on or off in all three
# (gatehoused reads GATEHOUSE_TLS_TICKETS, exported for start_proxy).
# wrk resumes TLS sessions when it reconnects, so the handshakes row turns
# resumption off everywhere: every connection is a full handshake.
write_configs() {
	export GATEHOUSE_TLS_TICKETS=$1
	nginx_conf "$work/nginx.conf" body_temp=1 tls="$1"
	haproxy_cfg "$work/haproxy.cfg" maxconn=4096 server_maxconn=1000 tls="$1"
}
write_configs on
gh_new_db
sqlite3 "$gh_db" <<EOF
INSERT INTO certificates (name, certificate_pem, private_key_pem)
	VALUES ('bench', CAST(readfile('$work/cert.pem') AS TEXT), readfile('$work/key.pem'));
EOF
gh_bench_db https bench

stop_proxy() { stop_proxy_at "$url" -k; }

# run_wrk ROUND PROXY TEST [wrk args]: one measurement into $raw.
run_wrk() {
	local round=$1 proxy=$2 test=$3 out rps p99 errs
	shift 3
	out=$(taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url")
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000}
		else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}
		print v}' <<<"$out")
	errs=$(awk '/Non-2xx|Socket errors/ {s = s $0 " "} END {print s}' <<<"$out")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$proxy" "$test" "$rps" "$p99" "$errs" >>"$raw"
	printf '  %-10s %-15s %10s req/s  p99 %s ms %s\n' "$proxy" "$test" "$rps" "$p99" "$errs"
}

# run_hey ROUND PROXY TEST: one measurement with hey (Go's TLS stack).
run_hey() {
	local round=$1 proxy=$2 test=$3 out rps p99 errs
	out=$(taskset -c "$WRK_CPU" hey -z "${DURATION}s" -c "$CONNECTIONS" -disable-keepalive "$url" 2>&1)
	rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" && $2 == "in" {print $3 * 1000}' <<<"$out")
	errs=$(awk '/^Error distribution:/ {e = 1; next} e && NF {s = s $0 " "} END {print s}' <<<"$out")
	non200=$(awk '/^Status code distribution:/ {c = 1; next} c && /\[[0-9]+\]/ && $1 != "[200]" {s = s $0 " "} END {print s}' <<<"$out")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$proxy" "$test" "$rps" "$p99" "$errs$non200" >>"$raw"
	printf '  %-10s %-15s %10s req/s  p99 %s ms %s\n' "$proxy" "$test" "$rps" "$p99" "$errs$non200"
}
tests=(tls-keepalive tls-handshakes)
command -v hey >/dev/null && tests+=(hey-handshakes)

echo "tls.sh: $ROUNDS rounds x ${DURATION}s, $CONNECTIONS connections, $KEY certificate;" \
    "proxy on CPU $PROXY_CPU, origin on CPU $ORIGIN_CPU, wrk on CPU $WRK_CPU"
for round in $(seq 1 "$ROUNDS"); do
	echo "round $round"
	for test in "${tests[@]}"; do
		if [ "$test" = tls-keepalive ]; then write_configs on; args=(); else
			write_configs off; args=(-H "Connection: close"); fi
		for proxy in gatehoused nginx haproxy; do
			start_proxy "$proxy"
			if ! wait_tls || ! curl -sk --max-time 2 "$url" | grep -q "$ORIGIN_MARK"; then
				echo "  $proxy does not proxy over TLS; skipped"
				tail -n 5 "$work/$proxy.err" 2>/dev/null || true
				stop_proxy
				continue
			fi
			if [ "$test" = hey-handshakes ]; then
				run_hey "$round" "$proxy" "$test"
				stop_proxy
				continue
			fi
			taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" "${args[@]}" "$url" >/dev/null
			run_wrk "$round" "$proxy" "$test" "${args[@]}"
			stop_proxy
		done
	done
done

# -- report: medians and the ratio to nginx ------------------------------------
/usr/bin/python3 "$here/report.py" --tls-report "$raw" "$KEY" | tee "$OUT/tls.md"
