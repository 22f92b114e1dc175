#!/usr/bin/env bash
# tests/bench/policy.sh: what an access list and a rate limit cost per
# proxied keep-alive request, in instructions (callgrind: deterministic,
# no timing involved, so a loaded machine gives the same figures).
#
# One gatehoused worker under callgrind, one listener, an origin (nginx,
# a short fixed answer), and a route per case, chosen by Host: bare; an
# access list that admits by address (allow 127.0.0.0/8); an access list
# that admits by password (basic auth: the per-worker cache after the
# first request); a rate limit that never triggers (key client_ip); the
# address access list and the rate limit together. For each, a client
# sends REQUESTS sequential keep-alive GETs while instrumentation is on;
# the figure is the daemon's instructions divided by REQUESTS, and the
# cost against the bare route.
#
# Usage: tests/bench/policy.sh [GATEHOUSED]   (default: builds build-bench/)
# Environment: REQUESTS (2000), OUT (tests/bench/out).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$top/tests/bench"
REQUESTS=${REQUESTS:-2000}
ORIGIN_CPU=${ORIGIN_CPU:-0}
source "$here/lib.sh"
PROXY_PORT=$(free_port)
ORIGIN_PORT=$(free_port)
OUT=${OUT:-$here/out}
command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
gh_build policy.sh "${1:-}"
bench_workdir gh-policy
start_origin

hash=$(/usr/bin/python3 -W ignore -c 'import crypt; print(crypt.crypt("pw", crypt.mksalt(crypt.METHOD_SHA512)))')
gh_new_db
sqlite3 "$gh_db" <<SQL
PRAGMA foreign_keys=ON;
INSERT INTO listeners (name, address, port) VALUES ('bench', '127.0.0.1', $PROXY_PORT);
INSERT INTO origins (name) VALUES ('origin');
INSERT INTO servers (origin_id, address, port) VALUES ((SELECT id FROM origins), '127.0.0.1', $ORIGIN_PORT);
INSERT INTO access_lists (name, allow) VALUES ('byaddr', '["127.0.0.0/8"]');
INSERT INTO access_lists (name, allow) VALUES ('bypw', '[]');
INSERT INTO access_list_users (access_list_id, username, password_hash)
	VALUES ((SELECT id FROM access_lists WHERE name = 'bypw'), 'ann', '$hash');
INSERT INTO rate_limits (name, rate, burst) VALUES ('never', 1000000, 1000000);
INSERT INTO routes (name, listener_id, origin_id, hosts) VALUES
	('bare', 1, 1, '["bare.test"]');
INSERT INTO routes (name, listener_id, origin_id, hosts, access_list_id) VALUES
	('acl_addr', 1, 1, '["addr.test"]', (SELECT id FROM access_lists WHERE name = 'byaddr')),
	('acl_password', 1, 1, '["pw.test"]', (SELECT id FROM access_lists WHERE name = 'bypw'));
INSERT INTO routes (name, listener_id, origin_id, hosts, rate_limit_id) VALUES
	('rate_limit', 1, 1, '["rl.test"]', (SELECT id FROM rate_limits));
INSERT INTO routes (name, listener_id, origin_id, hosts, access_list_id, rate_limit_id) VALUES
	('acl_and_rate_limit', 1, 1, '["both.test"]', (SELECT id FROM access_lists WHERE name = 'byaddr'),
	 (SELECT id FROM rate_limits));
SQL

valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.%p" \
    "$gh" --db "$gh_db" --workers 1 --access-log off --admin-listen off \
    --log-level warn 2>>"$work/gatehoused.err" &
proxy_pid=$!
pids+=("$proxy_pid")
for _ in $(seq 1 300); do
	curl -s -o /dev/null --max-time 1 -H 'Host: bare.test' "http://127.0.0.1:$PROXY_PORT/" && break
	sleep 0.2
done

# client HOST N [USER:PASSWORD]: N sequential keep-alive GETs on one
# connection.
client() {
	/usr/bin/python3 - "$PROXY_PORT" "$1" "$2" "${3:-}" <<'PY'
import base64, http.client, sys
port, host, n, auth = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
h = {"Host": host}
if auth:
    h["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(n):
    c.request("GET", "/", headers=h)
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
PY
}

report="$OUT/policy.tsv"
printf 'route\tinstructions_per_request\tcost_vs_bare\n' >"$report"
bare=0
for case in bare:bare.test acl_addr:addr.test acl_password:pw.test:ann:pw \
    rate_limit:rl.test acl_and_rate_limit:both.test; do
	IFS=: read -r name host user pass <<<"$case"
	auth=${user:+$user:$pass}
	client "$host" 50 "$auth" # warm: origin connection pooled, password cached
	callgrind_control -z "$proxy_pid" >/dev/null
	callgrind_control -i on "$proxy_pid" >/dev/null
	client "$host" "$REQUESTS" "$auth"
	callgrind_control -i off "$proxy_pid" >/dev/null
	callgrind_control -d "$name" "$proxy_pid" >/dev/null
	sleep 0.5
	f=$(ls -t "$work"/cg.* | head -1)
	ir=$(awk '/^totals:/ {print $2; exit}' "$f")
	per=$((ir / REQUESTS))
	[ "$name" = bare ] && bare=$per
	printf '%s\t%d\t%s\n' "$name" "$per" \
	    "$(awk -v a="$per" -v b="$bare" 'BEGIN {printf "%+.1f%%", (a - b) * 100 / b}')" >>"$report"
done
column -t -s$'\t' "$report"
