#!/usr/bin/env bash
# tests/bench/l4.sh: Layer 4 bulk throughput, gatehoused (tcp listener)
# against nginx `stream` and HAProxy `mode tcp`.
#
# Each proxy runs alone with one worker/thread pinned to PROXY_CPU. The
# origin is a sink that splices what it gets into /dev/null and answers
# the byte count at EOF; the client sends MIB MiB on each of CONNS
# connections with sendfile(2) and waits for every count (so a round
# measures bytes delivered end to end, checked). Sink and client share
# LOAD_CPU: neither copies the payload into user space, so the proxy is
# the bottleneck. Rounds are interleaved (g, n, h, g, ...) and the report
# gives each proxy's median MiB/s and its ratio to the faster of nginx and
# HAProxy (HAProxy both as configured by default and with splice turned
# on, "haproxy-splice"; nginx stream cannot splice). gatehoused runs with
# splice (its default) and, as a second row, in copy mode
# (GATEHOUSED_L4_COPY=1) to show what splice buys.
#
# Usage: tests/bench/l4.sh [GATEHOUSED]  (default: build-bench/gatehoused,
# built by run.sh). Environment: ROUNDS (5), CONNS (4), MIB (1024),
# PROXY_CPU (0), LOAD_CPU (1), OUT (tests/bench/out), PROXIES (the rows run,
# default: gatehoused nginx haproxy haproxy-splice gatehoused-copy). Needs nginx with
# the stream module (Debian: libnginx-mod-stream) and haproxy.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-4}
MIB=${MIB:-1024}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=${OUT:-$here/out}
PROXIES=${PROXIES:-gatehoused nginx haproxy haproxy-splice gatehoused-copy}
source "$here/lib.sh"
PROXY_PORT=$(free_port)
ORIGIN_PORT=$(free_port)

stream_mod=/usr/lib/nginx/modules/ngx_stream_module.so
if [ ! -f "$stream_mod" ]; then
	echo "l4.sh: nginx stream module missing: apt-get install libnginx-mod-stream" >&2
	exit 1
fi
command -v haproxy >/dev/null || { echo "l4.sh: haproxy missing" >&2; exit 1; }

gh=${1:-$top/build-bench/gatehoused}
[ -x "$gh" ] || { echo "l4.sh: no gatehoused at $gh (run run.sh first or pass a path)" >&2; exit 1; }

bench_workdir gh-l4bench
raw="$OUT/l4-raw.tsv"
printf 'round\tproxy\tseconds\tmib_s\n' >"$raw"

taskset -c "$LOAD_CPU" /usr/bin/python3 "$here/l4load.py" sink "$ORIGIN_PORT" >"$work/sink.out" &
pids+=($!)
for _ in $(seq 1 50); do grep -q ready "$work/sink.out" 2>/dev/null && break; sleep 0.1; done

nginx_conf "$work/nginx.conf" stream="$stream_mod"
haproxy_cfg "$work/haproxy.cfg" mode=tcp maxconn=4096 timeout=60s
# HAProxy can splice too when asked: the same, with splice in both directions.
haproxy_cfg "$work/haproxy-splice.cfg" mode=tcp maxconn=4096 timeout=60s splice=1
gh_new_db
gh_bench_db tcp

start_proxy() {
	case "$1" in
	gatehoused)
		taskset -c "$PROXY_CPU" "$gh" --db "$gh_db" --workers 1 --access-log off \
		    --admin-listen off --log-level warn 2>>"$work/gatehoused.err" & ;;
	gatehoused-copy)
		GATEHOUSED_L4_COPY=1 taskset -c "$PROXY_CPU" "$gh" --db "$gh_db" --workers 1 \
		    --access-log off --admin-listen off --log-level warn 2>>"$work/gatehoused.err" & ;;
	nginx)
		taskset -c "$PROXY_CPU" nginx -c "$work/nginx.conf" -e "$work/nginx.err" & ;;
	haproxy)
		taskset -c "$PROXY_CPU" haproxy -db -f "$work/haproxy.cfg" 2>>"$work/haproxy.err" & ;;
	haproxy-splice)
		taskset -c "$PROXY_CPU" haproxy -db -f "$work/haproxy-splice.cfg" 2>>"$work/haproxy.err" & ;;
	esac
	proxy_pid=$!
	for _ in $(seq 1 100); do
		/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $PROXY_PORT), 1).close()" \
		    2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

stop_proxy() {
	kill -TERM "$proxy_pid" 2>/dev/null || true
	wait "$proxy_pid" 2>/dev/null || true
}

echo "l4.sh: $ROUNDS rounds, $CONNS connections x $MIB MiB; proxy on CPU $PROXY_CPU, sink and client on CPU $LOAD_CPU"
for round in $(seq 1 "$ROUNDS"); do
	for proxy in $PROXIES; do
		if ! start_proxy "$proxy"; then
			echo "round $round: $proxy did not start; skipped"
			stop_proxy
			continue
		fi
		if out=$(taskset -c "$LOAD_CPU" /usr/bin/python3 "$here/l4load.py" send "$PROXY_PORT" "$CONNS" "$MIB"); then
			printf '%s\t%s\t%s\n' "$round" "$proxy" "$(echo "$out" | tr ' ' '\t')" >>"$raw"
			echo "round $round: $proxy ${out#* } MiB/s"
		else
			echo "round $round: $proxy failed"
		fi
		stop_proxy
	done
done

/usr/bin/python3 - "$raw" <<'EOF' | tee "$OUT/l4.md"
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
by = {}
for r in rows:
    by.setdefault(r[1], []).append(float(r[3]))
med = {k: statistics.median(v) for k, v in by.items()}
ref = max(med.get("nginx", 0), med.get("haproxy", 0), med.get("haproxy-splice", 0))
print("| L4 bulk (tcp, MiB/s, median) | MiB/s | vs faster of nginx/HAProxy |")
print("| --- | ---: | ---: |")
for k in ("gatehoused", "gatehoused-copy", "nginx", "haproxy", "haproxy-splice"):
    if k in med:
        print("| %s | %.0f | %s |" % (k, med[k], "%.2fx" % (med[k] / ref) if ref else "-"))
EOF
