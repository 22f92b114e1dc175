#!/bin/sh
# boot-test.sh IMAGE: boots the appliance image under qemu TCG and checks
# it end to end (see boot_test.py). TAP output; exit 0 when all passed.
exec python3 "$(dirname "$0")/boot_test.py" "$@"
