#!/usr/bin/env bash
# Exercises uio-ping, built for the host, as a user would: --help, usage
# errors (exit 2), and the failures before any device is touched (exit 1)
# against fake sysfs trees. The round trips themselves are unit-tested
# (tests/linux/test_uio_ping.c) and run in guests.
# usage: tests/linux/uio-ping-cli.sh PATH-OF-uio-ping
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 PATH-OF-uio-ping" >&2
	exit 2
fi
bin=$1
. "$(dirname "$0")/../cli/lib.sh"

run --help
expect_status 0 "--help"
expect_in "$out" "usage: uio-ping [--name NAME] [--count N] [--timeout-ms MS] [--sysfs-root DIR]" "--help"
expect_in "$out" "Prints \"uio-ping: N round trips ok\"" "--help"
expect_empty "$err" "--help"

run --frobnicate
expect_status 2 "unknown option"
expect_in "$err" 'uio-ping: unknown option "--frobnicate"' "unknown option"
expect_in "$err" "Try 'uio-ping --help'." "unknown option"
expect_empty "$out" "unknown option"
run --count 0
expect_status 2 "--count 0"
expect_in "$err" "--count must be a number from 1 to 100000000" "--count 0"
run --timeout-ms
expect_status 2 "--timeout-ms without a value"
expect_in "$err" "--timeout-ms needs a value" "--timeout-ms without a value"

# No UIO at all.
run --sysfs-root "$scratch/empty"
expect_status 1 "no class/uio"
expect_in "$err" "uio-ping: error: no $scratch/empty/class/uio: this kernel has no UIO" "no class/uio"

# Devices, none of them pinion's.
sys=$scratch/sys
mkdir -p "$sys/class/uio/uio0/maps/map0"
echo other-device >"$sys/class/uio/uio0/name"
echo 0x1000 >"$sys/class/uio/uio0/maps/map0/size"
run --sysfs-root "$sys"
expect_status 1 "no pinion device"
expect_in "$err" 'no UIO device whose name starts with "pinion-" (found: uio0 "other-device")' "no pinion device"
run --sysfs-root "$sys" --name pinion-net
expect_status 1 "--name not found"
expect_in "$err" 'no UIO device named "pinion-net" (found: uio0 "other-device")' "--name not found"

# A device found in sysfs whose /dev node does not exist (no such device on this host).
mkdir -p "$sys/class/uio/uio4242/maps/map0"
echo pinion-net >"$sys/class/uio/uio4242/name"
echo 0x1000 >"$sys/class/uio/uio4242/maps/map0/size"
run --sysfs-root "$sys"
expect_status 1 "no /dev node"
expect_in "$err" 'uio-ping: error: cannot open /dev/uio4242 ("pinion-net"): No such file or directory' "no /dev node"
expect_empty "$out" "no /dev node"

finish uio-ping-cli
