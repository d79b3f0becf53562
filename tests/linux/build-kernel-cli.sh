#!/usr/bin/env bash
# Exercises driver-vms/linux/build-kernel as a user would, without building
# a kernel: --help, usage errors, unknown and malformed fragments (a clear
# error, no --out file, nothing in the cache), and the cache key as
# --print-path shows it (stable, and changed by the fragments' order and
# contents but not by naming a fragment by path). Every run uses a scratch
# cache.
# usage: tests/linux/build-kernel-cli.sh SOURCE-DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 SOURCE-DIR" >&2
	exit 2
fi
src=$1
bin=$src/driver-vms/linux/build-kernel
. "$src/tests/cli/lib.sh"
cache=$scratch/cache
kernel_out=$scratch/out/k.Image

run --help
expect_status 0 "--help"
expect_in "$out" "usage: build-kernel" "--help"
expect_in "$out" "CACHE/linux/<key>/" "--help"
expect_in "$out" "--fragments base,net" "--help"
expect_empty "$err" "--help"

run --jobs 0 --cache "$cache"
expect_status 2 "--jobs 0"
expect_in "$err" "--jobs must be at least 1" "--jobs 0"
run --frobnicate
expect_status 2 "unknown option"
expect_in "$err" "unrecognized arguments: --frobnicate" "unknown option"

# expect_error WHAT TEXT ARGS...: exit 1 with TEXT; no kernel copied, no cache made.
expect_error() {
	local what=$1 text=$2
	shift 2
	run --cache "$cache" --out "$kernel_out" "$@"
	expect_status 1 "$what"
	expect_in "$err" "build-kernel: error: $text" "$what"
	expect_empty "$out" "$what"
	[[ ! -e $kernel_out ]] || fail "$what: $kernel_out was written"
	[[ ! -e $cache ]] || fail "$what: $cache was created"
}

expect_error "unknown fragment" "no config fragment 'nosuch' ($src/driver-vms/linux/nosuch.config)" \
	--fragments base,nosuch
expect_error "empty --fragments" "--fragments is empty" --fragments ,
expect_error "missing fragment file" "no config fragment '$scratch/none.config'" \
	--fragments "base,$scratch/none.config"
printf 'CONFIG_UIO=y\nCONFIG_UIO_PDRV_GENIRQ is on\n' >"$scratch/bad.config"
expect_error "malformed fragment" "bad.config:2: not a config line: CONFIG_UIO_PDRV_GENIRQ is on" \
	--fragments "base,$scratch/bad.config"

# print_path ARGS...: sets $path to the Image path for these fragments
# (not built in the scratch cache).
print_path() {
	run --cache "$cache" --print-path "$@"
	expect_status 1 "--print-path $*"
	expect_in "$err" "not built yet" "--print-path $*"
	expect_lines "$out" 1 "--print-path $*"
	grep -qxE "$cache/linux/[0-9a-f]{16}/Image" "$out" ||
		fail "--print-path $*: '$(cat "$out")' is not CACHE/linux/<key>/Image"
	path=$(cat "$out")
}
print_path --fragments base,net,blk
base_net=$path
print_path --fragments base,net,blk
[[ $path == "$base_net" ]] || fail "the key changed between two runs"
print_path
[[ $path == "$base_net" ]] || fail "the default fragments are not base,net,blk"
print_path --fragments net,base,blk
[[ $path != "$base_net" ]] || fail "the fragments' order does not change the key"
cp "$src/driver-vms/linux/base.config" "$scratch/base.config"
print_path --fragments "$scratch/base.config,net,blk"
[[ $path == "$base_net" ]] || fail "a fragment named by path has another key than by name"
echo "# changed" >>"$scratch/base.config"
print_path --fragments "$scratch/base.config,net,blk"
[[ $path != "$base_net" ]] || fail "a changed fragment keeps the key"
[[ ! -e $cache ]] || fail "--print-path created $cache"

finish build-kernel-cli
