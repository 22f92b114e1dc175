#!/usr/bin/env bash
# install-deps.sh [build] [test] [browser] [bench] [vm]: installs the Debian
# 12 packages Gatehouse needs to build (build), to run its tests (test), its
# web UI browser tests (browser: node, npm, chromium), the benchmark
# (bench), and to build the Debian package and the appliance VM image and
# boot it under qemu (vm); no argument means all but vm. Idempotent: it asks dpkg (for node and
# npm: PATH) what is missing and runs apt-get update + install only when
# something is.
set -euo pipefail

build_pkgs=(libevent-dev libgnutls28-dev gnutls-bin libsqlite3-dev sqlite3
	libmicrohttpd-dev libjansson-dev libargon2-dev libcmocka-dev node-llhttp
	libcurl4-gnutls-dev zlib1g-dev libbrotli-dev
	autoconf automake libtool pkg-config libcap-dev gcc clang
	libclang-rt-14-dev make git)
test_pkgs=(python3 python3-pytest python3-requests python3-brotli curl openssl passwd sslscan hey
	pebble
	util-linux)
bench_pkgs=(nginx-light haproxy wrk util-linux procps iproute2 linux-perf)
browser_pkgs=(chromium)
vm_pkgs=(debhelper dh-autoreconf devscripts lintian dpkg-dev fakeroot adduser
	mmdebstrap debian-archive-keyring e2fsprogs fdisk dosfstools mtools syslinux extlinux syslinux-common
	qemu-system-x86 qemu-utils systemd)

want=()
missing=()
[ $# -gt 0 ] || set -- build test browser bench
for set in "$@"; do
	case "$set" in
	build) want+=("${build_pkgs[@]}") ;;
	test) want+=("${test_pkgs[@]}") ;;
	bench) want+=("${bench_pkgs[@]}") ;;
	vm) want+=("${vm_pkgs[@]}") ;;
	browser)
		want+=("${browser_pkgs[@]}")
		# A node from elsewhere (with its own npm) is fine: check PATH.
		command -v node >/dev/null || missing+=(nodejs)
		command -v npm >/dev/null || missing+=(npm)
		;;
	*) echo "install-deps.sh: unknown set '$set' (build, test, browser, bench, vm)" >&2; exit 2 ;;
	esac
done

for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps.sh: all packages present ($*)"
	exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps.sh: missing ${missing[*]}; run as root" >&2; exit 1; }
	as_root=(sudo)
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
