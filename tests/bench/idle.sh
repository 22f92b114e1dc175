#!/bin/bash
# tests/bench/idle.sh GATEHOUSED: bytes per idle keep-alive client connection
# (RSS delta over N=10,000 connections, one worker) and RSS at start.
set -euo pipefail
gh=$1
w=$(mktemp -d /tmp/dp-idle.XXXX); chmod 755 $w; mkdir -p $w/www; head -c 100 /dev/zero | tr '\0' a > $w/www/small
OP=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
PP=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat > $w/o.conf <<EOF
worker_processes 1; daemon off; pid $w/o.pid; error_log $w/o.err warn;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$OP; root $w/www; } }
EOF
nginx -c $w/o.conf -e $w/o.err & op=$!
"$gh" --db $w/gh.db --workers 1 --access-log off --admin-listen off --log-level warn & p=$!
for _ in $(seq 50); do [ -s $w/gh.db ] && break; sleep 0.1; done; sleep 0.5; kill $p; wait $p || true
sqlite3 $w/gh.db <<EOF
PRAGMA foreign_keys=ON;
INSERT INTO listeners (name, address, port) VALUES ('bench', '127.0.0.1', $PP);
INSERT INTO origins (name) VALUES ('origin');
INSERT INTO servers (origin_id, address, port) VALUES ((SELECT id FROM origins WHERE name = 'origin'), '127.0.0.1', $OP);
INSERT INTO routes (name, listener_id, origin_id) VALUES ('all', (SELECT id FROM listeners WHERE name = 'bench'), (SELECT id FROM origins WHERE name = 'origin'));
EOF
python3 "$(dirname "$0")/idle.py" "$gh" $w/gh.db $PP || true
kill $op; wait $op || true; rm -rf $w
