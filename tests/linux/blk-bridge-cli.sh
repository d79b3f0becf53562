#!/usr/bin/env bash
# Exercises blk-bridge built for the host, as a user would: --help, usage
# errors (exit 2) before anything is opened, and set-up failures (exit 1)
# naming what is missing: no UIO device of that name in a fake sysfs tree.
# Its queue logic is unit-tested (tests/linux/test_blk_bridge.c) and it runs
# in the block driver VM (tests/kernel/check_blk_dvm.py).
# usage: tests/linux/blk-bridge-cli.sh PATH-OF-blk-bridge
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 PATH-OF-blk-bridge" >&2
	exit 2
fi
bin=$1
. "$(dirname "$0")/../cli/lib.sh"

run --help
expect_status 0 "--help"
expect_in "$out" "usage: blk-bridge [--name NAME] [--disk PATH] [--capacity N] [--block-size B]" "--help"
expect_in "$out" "--die-after N        test mode: exit with status 3 after N requests" "--help"
expect_empty "$err" "--help"

run --frobnicate
expect_status 2 "unknown option"
expect_in "$err" 'blk-bridge: unknown option "--frobnicate"' "unknown option"
expect_in "$err" "Try 'blk-bridge --help'." "unknown option"
expect_empty "$out" "unknown option"
run --slots 0
expect_status 2 "--slots 0"
expect_in "$err" "blk-bridge: --slots 0: not a number in 1..64" "--slots 0"
run --capacity 100
expect_status 2 "--capacity 100"
expect_in "$err" "--capacity and --block-size must be powers of two" "--capacity 100"
run --max-bytes 5000
expect_status 2 "--max-bytes 5000"
expect_in "$err" "--max-bytes a multiple of 4096" "--max-bytes 5000"
run --irq-wait sometimes
expect_status 2 "--irq-wait sometimes"
expect_in "$err" 'blk-bridge: --irq-wait takes poll or ring, not "sometimes"' "--irq-wait sometimes"
run --help
expect_in "$out" "--irq-wait poll|ring how pinion's notifications are waited for" "--help --irq-wait"
run --block-size 256
expect_status 2 "--block-size 256"
expect_in "$err" "blk-bridge: --block-size 256: not a number in 512..65536" "--block-size 256"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/sys/class/uio"
run --sysfs "$scratch/sys" --name blk
expect_status 1 "no UIO device"
expect_in "$err" "blk-bridge: error:" "no UIO device"
expect_in "$err" '"blk"' "no UIO device"
expect_empty "$out" "no UIO device"
echo "ok: blk-bridge's command line"
