# tests/bench/lib.sh: what the bench scripts share. Sourced, not run.
#
# bench_workdir PREFIX   makes $work (removed at exit with every pid in
#                        $pids, which the scripts append to) and $OUT
# free_port              a free loopback TCP port
# wait_url URL [ARGS]    until curl gets an answer from URL (10 s)
# origin_conf FILE [OPTS]   the origin nginx's configuration (below)
# start_origin [OPTS]    nginx (on $ORIGIN_CPU when set) serving a small
#                        fixed answer on $ORIGIN_PORT (keep-alive)
# start_proxy NAME       gatehoused, nginx or haproxy (on $PROXY_CPU when set)
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

# nginx_main NAME CONNS [MASTER] [RLIMIT]: prints the main context of an
# nginx configuration (the origin's or the proxy's): one worker of CONNS
# connections, in the foreground, its pid and error log $work/NAME.pid and
# .err; MASTER (off) for master_process, RLIMIT for worker_rlimit_nofile.
nginx_main() {
	echo "worker_processes 1;"
	[ -z "${3:-}" ] || echo "master_process $3;"
	[ -z "${4:-}" ] || echo "worker_rlimit_nofile $4;"
	echo "daemon off;"
	echo "pid $work/$1.pid;"
	echo "error_log $work/$1.err warn;"
	echo "events { worker_connections $2; }"
}

# origin_conf FILE [conns=4096] [serve=hello|body|root] [master=off]
#             [rlimit=N] [backlog=N] [log=len] [tls=1]
# The origin's nginx configuration, one place for every script: one worker,
# keep-alive without limit, listening on each of ${ORIGIN_PORTS:-$ORIGIN_PORT}.
#   serve=hello  every answer is "hello from the origin" (22 bytes; the
#                default without BODY_BYTES)
#   serve=body   every answer is $work/www/body, BODY_BYTES bytes, written
#                here (the default with BODY_BYTES)
#   serve=root   the files under $work/www by path (the caller writes them)
#   log=len      each request head's length to $work/origin.log
#                (origin_cost.sh); otherwise no access log
#   tls=1        HTTPS only (TLS 1.2/1.3), with a self-signed ECDSA P-256
#                certificate for 127.0.0.1 made here ($work/origin.crt)
origin_conf() {
	local file=$1 conns=4096 serve=hello master="" rlimit="" backlog="" log="" tls="" kv p
	[ -z "${BODY_BYTES:-}" ] || serve=body
	shift
	for kv in "$@"; do local "${kv%%=*}=${kv#*=}"; done
	local loc
	case "$serve" in
	hello) loc='location / { default_type text/plain; return 200 "hello from the origin\n"; }' ;;
	body)
		mkdir -p "$work/www"
		head -c "$BODY_BYTES" /dev/zero | tr '\0' b >"$work/www/body"
		loc="location / { default_type text/plain; root $work/www; try_files /body =404; }" ;;
	root) loc="root $work/www;" ;;
	*) echo "origin_conf: serve is hello, body or root" >&2; return 2 ;;
	esac
	if [ -n "$tls" ] && [ ! -s "$work/origin.crt" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -subj /CN=origin.test -addext subjectAltName=IP:127.0.0.1 -days 2 \
		    -keyout "$work/origin.key" -out "$work/origin.crt" 2>/dev/null
	fi
	{
		nginx_main origin "$conns" "$master" "$rlimit"
		echo "http {"
		if [ "$log" = len ]; then
			echo '	log_format len $request_length;'
			echo "	access_log $work/origin.log len;"
		else
			echo "	access_log off;"
		fi
		echo "	client_body_temp_path $work/tmp-origin;"
		echo "	keepalive_requests 1000000;"
		echo "	server {"
		for p in ${ORIGIN_PORTS:-$ORIGIN_PORT}; do
			echo "		listen 127.0.0.1:$p reuseport${backlog:+ backlog=$backlog}${tls:+ ssl};"
		done
		if [ -n "$tls" ]; then
			echo "		ssl_certificate $work/origin.crt;"
			echo "		ssl_certificate_key $work/origin.key;"
			echo "		ssl_protocols TLSv1.2 TLSv1.3;"
		fi
		echo "		$loc"
		echo "	}"
		echo "}"
	} >"$file"
}

# start_origin [OPTS]: origin_conf's $work/origin.conf with OPTS, served by
# nginx (pinned to $ORIGIN_CPU when it is set) until the script ends.
start_origin() {
	local pin=() p scheme=http
	[ -z "${ORIGIN_CPU:-}" ] || pin=(taskset -c "$ORIGIN_CPU")
	case " $* " in *" tls=1 "*) scheme=https ;; esac
	origin_conf "$work/origin.conf" "$@"
	"${pin[@]}" nginx -c "$work/origin.conf" -e "$work/origin.err" &
	pids+=("$!")
	for p in ${ORIGIN_PORTS:-$ORIGIN_PORT}; do
		wait_url "$scheme://127.0.0.1:$p/" -k || {
			echo "bench: origin nginx did not start" >&2
			cat "$work/origin.err" >&2
			exit 1
		}
	done
}

# proxy_cmd NAME: sets proxy_argv to the command that runs NAME (gatehoused,
# nginx or haproxy) in the foreground with one worker: gatehoused on $gh_db
# (gh_bench_db), nginx on $work/nginx.conf (nginx_conf), HAProxy on
# $work/haproxy.cfg (haproxy_cfg).
proxy_cmd() {
	case "$1" in
	gatehoused)
		proxy_argv=("$gh" --db "$gh_db" --workers 1 --access-log off --admin-listen off
			--log-level warn) ;;
	nginx) proxy_argv=(nginx -c "$work/nginx.conf" -e "$work/nginx.err") ;;
	haproxy) proxy_argv=(haproxy -db -f "$work/haproxy.cfg") ;;
	*) echo "proxy_cmd: no proxy '$1'" >&2; return 2 ;;
	esac
}

# start_proxy NAME: starts proxy_cmd's NAME in the background, pinned to
# $PROXY_CPU when it is set, its stderr appended to $work/NAME.err; sets
# proxy_pid (also added to $pids). Stop it with stop_proxy_at.
start_proxy() {
	local pin=()
	[ -z "${PROXY_CPU:-}" ] || pin=(taskset -c "$PROXY_CPU")
	proxy_cmd "$1"
	"${pin[@]}" "${proxy_argv[@]}" 2>>"$work/$1.err" &
	proxy_pid=$!
	pids+=("$proxy_pid")
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

# The peers' configurations, one place for every script. Options are
# KEY=VALUE words; the proxy listens on $PROXY_PORT and forwards to
# 127.0.0.1:$ORIGIN_PORT; files go under $work.
#
# fwd=1 (default: $FORWARDED): nginx and HAProxy send the origin the
# headers gatehoused adds to every request (X-Forwarded-For, -Proto and
# -Host, the client's Host kept), so that all three send the same head.
# Without it they send none of them, and the origin parses less per request
# behind them (origin_cost.sh, doc/performance.md).
#
# nginx_conf FILE [conns=4096] [rlimit=N] [keepalive=64] [backlog=N]
#            [body_temp=1] [master=off] [tls=on|off (session tickets)]
#            [stream=MODULE.so (layer 4, load_module'd)] [fwd=1]
nginx_conf() {
	local file=$1 conns=4096 rlimit="" keepalive=64 backlog="" body_temp="" master="" tls="" stream="" kv
	local fwd=${FORWARDED:-}
	shift
	for kv in "$@"; do local "${kv%%=*}=${kv#*=}"; done
	local listen="listen 127.0.0.1:$PROXY_PORT${backlog:+ backlog=$backlog}"
	{
		[ -z "$stream" ] || echo "load_module $stream;"
		nginx_main nginx "$conns" "$master" "$rlimit"
		if [ -n "$stream" ]; then
			cat <<EOC
stream {
	server {
		$listen;
		proxy_pass 127.0.0.1:$ORIGIN_PORT;
		proxy_half_close on;
	}
}
EOC
			return 0
		fi
		echo "http {"
		echo "	access_log off;"
		[ -z "$body_temp" ] || echo "	client_body_temp_path $work/tmp-nginx;"
		echo "	proxy_temp_path $work/tmp-nginx-proxy;"
		echo "	keepalive_requests 1000000;"
		echo "	upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive $keepalive; }"
		echo "	server {"
		if [ -n "$tls" ]; then
			cat <<EOC
		$listen ssl;
		ssl_certificate $work/cert.pem;
		ssl_certificate_key $work/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;
		ssl_session_tickets $tls;
		ssl_session_cache off;
EOC
		else
			echo "		$listen;"
		fi
		cat <<EOC
		location / {
			proxy_pass http://origin;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
EOC
		# (proxy_set_header is inherited only by a level with none.)
		if [ -n "$fwd" ]; then
			cat <<'EOC'
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header X-Forwarded-Host $http_host;
EOC
		fi
		cat <<EOC
		}
	}
}
EOC
	} >"$file"
}

# haproxy_cfg FILE [mode=http|tcp] [maxconn=N (global)] [fe_maxconn=N]
#             [ulimit=N] [timeout=30s] [keepalive_timeout=T]
#             [server_maxconn=N] [tls=on|off (session tickets)] [splice=1]
#             [fwd=1]
haproxy_cfg() {
	local file=$1 mode=http maxconn="" fe_maxconn="" ulimit="" timeout=30s keepalive_timeout="" server_maxconn="" tls="" splice="" kv
	local fwd=${FORWARDED:-}
	shift
	for kv in "$@"; do local "${kv%%=*}=${kv#*=}"; done
	{
		echo "global"
		echo "	nbthread 1"
		[ -z "$maxconn" ] || echo "	maxconn $maxconn"
		[ -z "$ulimit" ] || echo "	ulimit-n $ulimit"
		if [ -n "$tls" ]; then
			echo "	ssl-default-bind-options ssl-min-ver TLSv1.2"
			echo "	ssl-default-bind-ciphers ECDHE+AESGCM:ECDHE+CHACHA20"
			echo "	tune.ssl.cachesize 0"
		fi
		echo "defaults"
		if [ -n "$splice" ]; then
			echo "	option splice-request"
			echo "	option splice-response"
		fi
		echo "	mode $mode"
		[ -z "$fe_maxconn" ] || echo "	maxconn $fe_maxconn"
		if [ "$mode" = http ]; then
			echo "	option http-keep-alive"
			echo "	http-reuse safe"
		fi
		echo "	timeout connect 5s"
		echo "	timeout client $timeout"
		echo "	timeout server $timeout"
		[ -z "$keepalive_timeout" ] || echo "	timeout http-keep-alive $keepalive_timeout"
		echo "frontend fe"
		if [ -n "$tls" ]; then
			echo "	bind 127.0.0.1:$PROXY_PORT ssl crt $work/haproxy.pem alpn http/1.1$([ "$tls" = off ] && echo " no-tls-tickets")"
		else
			echo "	bind 127.0.0.1:$PROXY_PORT"
		fi
		if [ -n "$fwd" ] && [ "$mode" = http ]; then
			echo "	option forwardfor"
			echo "	http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]"
			echo "	http-request set-header X-Forwarded-Host %[req.hdr(host)]"
		fi
		echo "	default_backend be"
		echo "backend be"
		echo "	server origin 127.0.0.1:$ORIGIN_PORT${server_maxconn:+ maxconn $server_maxconn}"
	} >"$file"
}

# gh_bench_db [PROTOCOL] [CERT]: $gh_db with one listener 'bench' on
# $PROXY_PORT (http by default; https with CERT, the name of a certificate
# the caller inserted), one origin with one server at $ORIGIN_PORT and one
# catch-all route. Needs gh_new_db first.
gh_bench_db() {
	local proto=${1:-http} cert=${2:-}
	sqlite3 "$gh_db" <<EOC
PRAGMA foreign_keys=ON;
INSERT INTO listeners (name, address, port, protocol, default_certificate_id)
	VALUES ('bench', '127.0.0.1', $PROXY_PORT, '$proto', (SELECT id FROM certificates WHERE name = '$cert'));
INSERT INTO origins (name) VALUES ('origin');
INSERT INTO servers (origin_id, address, port) VALUES ((SELECT id FROM origins WHERE name = 'origin'), '127.0.0.1', $ORIGIN_PORT);
INSERT INTO routes (name, listener_id, origin_id) VALUES ('all', (SELECT id FROM listeners WHERE name = 'bench'), (SELECT id FROM origins WHERE name = 'origin'));
EOC
}
