#!/usr/bin/env bash
# start.sh [--foreground] [--stop]: build Gatehouse and run it as an appliance.
#
# As root on Debian 12: installs the missing build packages, builds in
# build/ (out of tree), creates the system user "gatehouse", and starts
# gatehoused on the database /var/lib/gatehouse/gatehouse.db (created with
# the embedded schema on first start). The daemon binds its listeners as
# root, then drops to "gatehouse" keeping only CAP_NET_BIND_SERVICE.
#
# By default it runs in the background (log: /var/log/gatehouse/gatehoused.log,
# pid: /run/gatehouse/gatehoused.pid) and this script prints the admin API
# URL and the first-login credential, then returns. Running it again
# rebuilds and restarts. --foreground keeps the daemon attached (Ctrl-C
# stops it); --stop stops a background daemon.
#
# Environment: GH_STATE_DIR (default /var/lib/gatehouse), GH_ADMIN_LISTEN
# (default 127.0.0.1:9080), GH_USER (default gatehouse).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state_dir=${GH_STATE_DIR:-/var/lib/gatehouse}
admin_listen=${GH_ADMIN_LISTEN:-127.0.0.1:9080}
user=${GH_USER:-gatehouse}
db="$state_dir/gatehouse.db"
log_dir=/var/log/gatehouse
log="$log_dir/gatehoused.log"
run_dir=/run/gatehouse
pidfile="$run_dir/gatehoused.pid"
foreground=0
stop_only=0

for arg in "$@"; do
	case "$arg" in
	--foreground) foreground=1 ;;
	--stop) stop_only=1 ;;
	-h | --help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "start.sh: unknown option $arg" >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "start.sh: run as root (it installs packages, creates a user and drops privileges)" >&2
	exit 1
fi

stop_running() {
	local pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null && grep -q gatehoused "/proc/$pid/cmdline" 2>/dev/null; then
		echo "start.sh: stopping gatehoused (pid $pid)"
		kill -TERM "$pid"
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$pidfile"
}

if [ "$stop_only" -eq 1 ]; then
	stop_running
	exit 0
fi

# 1. Packages and build.
bash "$top/scripts/install-deps.sh" build
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	echo "start.sh: autogen"
	./autogen.sh >/dev/null
fi
mkdir -p build
cd build
if [ ! -f Makefile ]; then
	echo "start.sh: configure"
	../configure >configure.out 2>&1 || { tail -n 30 configure.out; exit 1; }
fi
echo "start.sh: building (make -j$(nproc))"
make -j"$(nproc)" >build.out 2>&1 || { tail -n 40 build.out; exit 1; }
bin="$top/build/gatehoused"

# 2. Service user and directories.
if ! id "$user" >/dev/null 2>&1; then
	echo "start.sh: creating system user $user"
	useradd --system --home-dir "$state_dir" --no-create-home \
	    --shell /usr/sbin/nologin "$user"
fi
install -d -o "$user" -g "$user" -m 0750 "$state_dir"
install -d -o "$user" -g "$user" -m 0750 "$log_dir"
install -d -m 0755 "$run_dir"

stop_running

args=(--db "$db" --admin-listen "$admin_listen" --user "$user"
	--access-log "$log_dir/access.log")
if "$bin" --help 2>&1 | grep -q -- --webui-dir; then
	args+=(--webui-dir "$top/webui")
fi

show_credentials() {
	local url
	url=$(sed -n 's/.*\[info\] admin API listening on \([^ ]*\).*/\1/p' "$1" | tail -n 1)
	echo
	echo "Gatehouse is running (database $db)."
	if [ -n "$url" ]; then
		echo "Admin API and web UI: $url   (API base ${url%/}/api/v1)"
	else
		echo "Admin API: not reported by this build (see $log)"
	fi
	if [ -f "$state_dir/admin-password" ]; then
		echo "First login: user admin, password $(cat "$state_dir/admin-password")"
		echo "             (stored in $state_dir/admin-password, mode 0600)"
	else
		echo "First login: no $state_dir/admin-password (the admin user already" \
		    "has the password set on first start, or this build has no admin API yet)"
	fi
	echo "Logs: $log; stop with: $top/scripts/start.sh --stop"
}

# wait_ready PID: waits for the "ready" line, then prints the credentials.
wait_ready() {
	local pid=$1
	for _ in $(seq 1 200); do
		if grep -q '\[info\] gatehoused ready' "$log"; then
			show_credentials "$log"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "start.sh: gatehoused exited during start:" >&2
			tail -n 20 "$log" >&2
			rm -f "$pidfile"
			return 1
		fi
		sleep 0.1
	done
	echo "start.sh: gatehoused did not report ready within 20 s; log:" >&2
	tail -n 20 "$log" >&2
	return 1
}

: >"$log"
chown "$user:$user" "$log"
if [ "$foreground" -eq 1 ]; then
	"$bin" "${args[@]}" 2> >(tee -a "$log" >&2) &
	pid=$!
	echo "$pid" >"$pidfile"
	trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
	wait_ready "$pid" || exit 1
	echo "start.sh: running in the foreground (Ctrl-C stops it)"
	rc=0
	wait "$pid" || rc=$?
	# A trapped signal interrupts the first wait: wait for the exit itself.
	kill -0 "$pid" 2>/dev/null && { wait "$pid" || rc=$?; }
	rm -f "$pidfile"
	exit "$rc"
fi

nohup "$bin" "${args[@]}" </dev/null >>"$log_dir/stdout.log" 2>>"$log" &
pid=$!
echo "$pid" >"$pidfile"
wait_ready "$pid"
