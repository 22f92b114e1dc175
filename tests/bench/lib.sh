# tests/bench/lib.sh: what run.sh, tls.sh and l4.sh share. Sourced, not run.
#
# bench_workdir PREFIX   makes $work (removed at exit with every pid in
#                        $pids, which the scripts append to) and $OUT
# free_port              a free loopback TCP port
# wait_url URL [ARGS]    until curl gets an answer from URL (10 s)
# start_origin           nginx on $ORIGIN_CPU serving a small fixed answer
#                        on $ORIGIN_PORT (keep-alive)
# cpu_ticks PID, hwm_kb PID   CPU ticks and peak RSS of PID and children

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_cleanup() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}

bench_workdir() {
	work=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$work"
	mkdir -p "$OUT"
	pids=()
	trap bench_cleanup EXIT
}

wait_url() {
	local url=$1
	shift
	for _ in $(seq 1 100); do
		curl -s "$@" -o /dev/null --max-time 1 "$url" && return 0
		sleep 0.1
	done
	return 1
}

# What a proxied answer from start_origin's nginx contains.
if [ -n "${BODY_BYTES:-}" ]; then ORIGIN_MARK=bbbbbbbb; else ORIGIN_MARK="hello from the origin"; fi

start_origin() {
	# BODY_BYTES=N: every answer is a file of N bytes instead.
	local loc='location / { default_type text/plain; return 200 "hello from the origin\n"; }'
	if [ -n "${BODY_BYTES:-}" ]; then
		mkdir -p "$work/www"
		head -c "$BODY_BYTES" /dev/zero | tr '\0' b >"$work/www/body"
		loc="location / { default_type text/plain; root $work/www; try_files /body =404; }"
	fi
	cat >"$work/origin.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/origin.pid;
error_log $work/origin.err warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $work/tmp-origin;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$ORIGIN_PORT reuseport;
		$loc
	}
}
EOF
	taskset -c "$ORIGIN_CPU" nginx -c "$work/origin.conf" -e "$work/origin.err" &
	pids+=("$!")
	wait_url "http://127.0.0.1:$ORIGIN_PORT/" || {
		echo "bench: origin nginx did not start" >&2
		cat "$work/origin.err" >&2
		exit 1
	}
}

cpu_ticks() {
	local total=0 t
	for p in "$1" $(pgrep -P "$1" || true); do
		t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
		total=$((total + ${t:-0}))
	done
	echo "$total"
}

hwm_kb() {
	local total=0 kb
	for p in "$1" $(pgrep -P "$1" || true); do
		kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

# gh_new_db: lets gatehoused create $work/gatehouse.db ($gh_db) with its
# schema and stops it; the caller then writes its rows with sqlite3.
gh_new_db() {
	local p
	gh_db="$work/gatehouse.db"
	"$gh" --db "$gh_db" --workers 1 --access-log off --admin-listen off --log-level warn &
	p=$!
	for _ in $(seq 1 100); do [ -s "$gh_db" ] && break; sleep 0.1; done
	sleep 0.5
	kill -TERM "$p"
	wait "$p" || true
}

# stop_proxy_at URL [CURL ARGS]: stops $proxy_pid and waits until URL
# no longer answers, so the next proxy gets the port.
stop_proxy_at() {
	local url=$1
	shift
	kill -TERM "$proxy_pid" 2>/dev/null || true
	wait "$proxy_pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		curl -s "$@" -o /dev/null --max-time 1 "$url" || return 0
		sleep 0.1
	done
}

# gh_build NAME [GATEHOUSED]: sets $gh to GATEHOUSED, or builds
# build-bench/gatehoused from the tree; NAME prefixes the error messages.
gh_build() {
	local name=$1 top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	gh=${2:-}
	if [ -z "$gh" ]; then
		gh="$top/build-bench/gatehoused"
		(
			cd "$top"
			[ -x configure ] || ./autogen.sh >/dev/null 2>&1
			mkdir -p build-bench && cd build-bench
			[ -f Makefile ] || ../configure >configure.out 2>&1
			make -j"$(nproc)" gatehoused >build.out 2>&1
		) || { echo "$name: building gatehoused failed (see build-bench/build.out)" >&2; exit 1; }
	fi
	[ -x "$gh" ] || { echo "$name: no gatehoused at $gh" >&2; exit 1; }
}
