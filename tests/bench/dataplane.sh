#!/usr/bin/env bash
# tests/bench/dataplane.sh: issue 10's "Done when" measurements in one run,
# gatehoused beside nginx and HAProxy (one worker each), and one table with
# a row per line: what is measured, the three figures, gatehoused's ratio to
# nginx, the target and whether it holds.
#
# It makes no measurement of its own: it runs the scripts that make them,
# one after the other with the same gatehoused, each into a directory of its
# own under OUT, and dataplane.py reads their raw outputs:
#   syscalls/    syscalls.sh: system calls per request, 100 B and 16 KiB
#   cpu_cost/    cpu_cost.py: user-space instructions per 100 B request
#   idle/        SEQ=1 idle.sh: bytes per idle keep-alive connection at
#                10,000, and resident memory at start
#   run-16k/     BODY_BYTES=16384 BENCH=http run.sh: 16 KiB keep-alive req/s
#   run-16k-fwd/ the same with FORWARDED=1 (nginx and HAProxy also send the
#                X-Forwarded-* headers gatehoused adds)
#   run-100b/    BODY_BYTES=100 BENCH=http run.sh: the proxy's CPU per 100 B
#                request, as requests per CPU-second
#   tls/         tls.sh: TLS keep-alive req/s, full handshakes/s with wrk
#                and with hey (Go's TLS client)
# The first three are counts (deterministic, or nearly: RSS), fit for a
# busy machine; the rest are wall-clock and want a quiet one. The table goes
# to OUT/dataplane.md, each step's output to its directory's log, the load
# average before each step to OUT/load.tsv.
#
# Usage: tests/bench/dataplane.sh [GATEHOUSED]   (default: builds build-bench/)
# Environment: COUNTS_ONLY=1 runs the counted steps only; OUT
# (tests/bench/out/dataplane); ROUNDS (5), DURATION (10 s), WARMUP,
# CONNECTIONS, PROXY_CPU, ORIGIN_CPU, WRK_CPU for run.sh and tls.sh;
# REQUESTS for syscalls.sh; N for idle.sh; N1, N2 for cpu_cost.py (200,
# 1200).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
source "$here/lib.sh"
OUT=${OUT:-$here/out/dataplane}
export ROUNDS=${ROUNDS:-5} DURATION=${DURATION:-10}
# Each step sets what it measures; nothing of the caller's may change it.
unset BODY_BYTES FORWARDED PROXIES BENCH SEQ TLS ORIGIN_TLS STRACE KEEP PERF
gh_build dataplane.sh "${1:-}"
gh=$(realpath "$gh")
mkdir -p "$OUT"
rm -f "$OUT/dataplane.md" "$OUT/load.tsv"
# the run's facts, for the table's note
{
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'gatehoused\t%s (%s)\n' "$gh" \
	    "$(git -C "$top" describe --always --dirty 2>/dev/null || echo "no git")"
	printf 'nginx\t%s\n' "$(nginx -v 2>&1 | sed 's/.*: //')"
	printf 'haproxy\t%s\n' "$(haproxy -v 2>/dev/null | awk 'NR == 1 {print $3}')"
	printf 'machine\t%s CPUs, %s\n' "$(nproc)" "$(uname -r)"
	printf 'rounds\t%s x %s s\n' "$ROUNDS" "$DURATION"
	printf 'counts_only\t%s\n' "${COUNTS_ONLY:-}"
} >"$OUT/facts.tsv"

# step NAME COMMAND...: runs COMMAND with OUT=OUT/NAME, its output to
# OUT/NAME/log; a step that fails is reported and the run goes on (its
# rows then say so).
step() {
	local name=$1 dir="$OUT/$1"
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	printf '%s\t%s\n' "$name" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.tsv"
	echo "dataplane.sh: $name ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
	if ! env OUT="$dir" "$@" >"$dir/log" 2>&1; then
		echo "dataplane.sh: $name failed; the end of $dir/log:" >&2
		tail -n 5 "$dir/log" >&2
		touch "$dir/failed"
	fi
}

step syscalls bash "$here/syscalls.sh" "$gh"
step cpu_cost /usr/bin/python3 "$here/cpu_cost.py" "$gh" "${N1:-200}" "${N2:-1200}"
step idle env SEQ=1 bash "$here/idle.sh" "$gh"
if [ -z "${COUNTS_ONLY:-}" ]; then
	step run-16k env BODY_BYTES=16384 BENCH=http bash "$here/run.sh" "$gh"
	step run-16k-fwd env BODY_BYTES=16384 FORWARDED=1 BENCH=http bash "$here/run.sh" "$gh"
	step run-100b env BODY_BYTES=100 BENCH=http bash "$here/run.sh" "$gh"
	step tls bash "$here/tls.sh" "$gh"
fi
printf 'end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.tsv"

/usr/bin/python3 "$here/dataplane.py" "$OUT" | tee "$OUT/dataplane.md"
