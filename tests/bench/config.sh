#!/usr/bin/env bash
# tests/bench/config.sh: configuration at scale (issue 9), through the admin
# API: PUT /config with 10,000 routes on 1,000 origins, 50 one-route PATCHes
# timed (p50/p99) with 2 workers, the database after 1,000 one-route
# changes against its size after the first load; then the same load and
# PATCHes with 100,000 routes; resident memory per route for each.
# Details in tests/bench/config.py.
#
# Usage: tests/bench/config.sh [GATEHOUSED]   (default: builds build-bench/)
# Environment: SIZES (10000,100000), PATCHES (50), CHANGES (1000), OUT.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
OUT=${OUT:-$here/out}
source "$here/lib.sh"
ncpu=$(nproc)

gh_build config.sh "${1:-}"
mkdir -p "$OUT"

/usr/bin/python3 "$here/config.py" "$gh" --sizes "${SIZES:-10000,100000}" \
    --patches "${PATCHES:-50}" --changes "${CHANGES:-1000}" 2>"$OUT/config.jsonl" |
	tee "$OUT/config.md"
echo "($(date -u +%Y-%m-%d), $ncpu CPUs, $(uname -r); raw: $OUT/config.jsonl)"
