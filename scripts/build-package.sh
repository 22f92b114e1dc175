#!/usr/bin/env bash
# build-package.sh [OUTDIR]: builds the Debian package gatehouse_*.deb from
# a fresh clone of this checkout's committed HEAD (so nothing from a build
# tree or an uncommitted file gets in) with dpkg-buildpackage -b, checks it
# with lintian (errors fail), and copies it to OUTDIR (default: out/).
# Needs the "build" and "vm" package sets of scripts/install-deps.sh.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$top/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/gatehouse-pkg.XXXXXX)
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
git clone -q "$top" "$work/gatehouse"
cd "$work/gatehouse"
echo "build-package.sh: building $(git rev-parse --short HEAD) in $work"
if ! dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log"
	echo "build-package.sh: dpkg-buildpackage failed" >&2
	exit 1
fi
deb=$(ls "$work"/gatehouse_*.deb)
echo "== lintian"
lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" | tee "$work/lintian.out" || {
	echo "build-package.sh: lintian reports errors" >&2
	exit 1
}
cp "$deb" "$out/"
echo "build-package.sh: $out/$(basename "$deb") ($(du -h "$deb" | cut -f1)) in $(($(date +%s) - start)) s"
