#!/usr/bin/env bash
# Exercises pinion-blkimage as experiments/run uses it: help, usage errors,
# create and verify on systems/blk-bench.json (an image before any run is
# what a read-only workload leaves, not what a writing one does), a
# damaged image, and inputs that are not what they should be.
# usage: tests/cli/blkimage-cli.sh PATH-OF-pinion-blkimage SOURCE-DIR
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 PATH-OF-pinion-blkimage SOURCE-DIR" >&2
	exit 2
fi
bin=$1
. "$(dirname "$0")/lib.sh"
src=$2
system=$src/systems/blk-bench.json
image=$scratch/disk0.img

# Help and usage errors.
run --help
expect_status 0 "--help"
expect_in "$out" "usage: pinion-blkimage create SYSTEM.json DEVICE IMAGE" "--help"
expect_empty "$err" "--help"
run
expect_status 2 "no arguments"
expect_in "$err" "usage:" "no arguments"
run mend "$system" disk0 "$image"
expect_status 2 "unknown command"
expect_in "$err" 'unknown command "mend" (create or verify)' "unknown command"
run verify "$system" disk0
expect_status 2 "verify without IMAGE"
expect_in "$err" "verify needs SYSTEM.json DEVICE IMAGE" "verify without IMAGE"

# A fresh image: the device's size, sparse, each partition at generation 0.
run create "$system" disk0 "$image"
expect_status 0 "create"
expect_empty "$err" "create"
[[ $(stat -c %s "$image") -eq 41943040 ]] || fail "create: the image is not 40 MiB"
[[ $(stat -c %b "$image") -lt 81920 ]] || fail "create: the image is not sparse"

# The description's clients write (70r): an image nobody wrote to fails, naming lost blocks.
run verify "$system" disk0 "$image"
expect_status 1 "verify unwritten image"
expect_in "$out" '"verdict": "lost"' "verify unwritten image"
expect_in "$out" '"ok": false' "verify unwritten image"

# Read-only clients leave generation 0 everywhere: the same image passes.
reads=$scratch/reads.json
sed 's/"mix": "70r"/"mix": "read"/g' "$system" >"$reads"
run verify "$reads" disk0 "$image"
expect_status 0 "verify read-only workload"
expect_in "$out" '"ok": true' "verify read-only workload"
expect_in "$out" '"changed_bytes": 0' "verify read-only workload"

# A byte outside every partition is found, at its offset.
printf 'x' | dd of="$image" bs=1 seek=1000 conv=notrunc status=none
run verify "$reads" disk0 "$image"
expect_status 1 "verify changed gap"
expect_in "$out" '"first_changed": 1000' "verify changed gap"

# Inputs that are not what they should be.
run verify "$reads" disk9 "$image"
expect_status 1 "unknown device"
expect_in "$err" 'no device "disk9"' "unknown device"
run verify "$reads" disk0 "$scratch/missing.img"
expect_status 1 "missing image"
expect_in "$err" "missing.img: cannot open" "missing image"
truncate -s 4096 "$image"
run verify "$reads" disk0 "$image"
expect_status 1 "short image"
expect_in "$err" "4096 bytes, but device \"disk0\" is 41943040 bytes" "short image"
run create "$src/systems/missing.json" disk0 "$image"
expect_status 1 "missing description"
expect_in "$err" "missing.json: cannot open" "missing description"
sed 's/"io_size": 4096/"io_size": 1000/' "$system" >"$scratch/bad-plan.json"
run create "$scratch/bad-plan.json" disk0 "$image"
expect_status 1 "bad plan"
expect_in "$err" 'client "client0" of device "disk0": parameter "io_size" must be' "bad plan"

finish blkimage-cli
