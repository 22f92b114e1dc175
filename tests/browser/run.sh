#!/bin/sh
# run.sh: the web UI's browser tests. Installs what they need when it is
# missing (Debian chromium with apt-get, playwright-core with npm ci from
# package-lock.json; no browser is downloaded), then runs them with node's
# test runner. GATEHOUSED names the daemon (default: ../../build/gatehoused).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "run.sh: chromium is missing: apt-get install -y chromium (as root)" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2 ||
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2; }
fi
if ! command -v certtool >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnutls-bin >&2
fi
if [ ! -f node_modules/playwright-core/package.json ]; then
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
fi
: "${GATEHOUSED:=$here/../../build/gatehoused}"
export GATEHOUSED
exec node --test --test-concurrency=1 "$@" test/
