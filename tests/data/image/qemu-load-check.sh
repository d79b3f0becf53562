#!/usr/bin/env bash
# Boots an image packed by pinion-image with a kernel that checks how QEMU
# loaded it (loadcheck_kernel.c): contents at their physical addresses, and
# memory-only segments zero on the first boot and again after a reset.
# usage: qemu-load-check.sh SOURCE_DIR PINION_IMAGE WORK_DIR
# Exit status 77 (skipped) when qemu-system-aarch64 or the cross compiler is missing.
set -euo pipefail
src=$1 packer=$2 work=$3
for tool in qemu-system-aarch64 aarch64-linux-gnu-gcc; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: $tool is not installed (run tools/install-deps)" >&2
		exit 1
	fi
done
rm -rf "$work"
mkdir -p "$work"
"$src/tests/data/image/build-elves.sh" "$src" "$work"
"$packer" --system "$src/tests/data/image/loadcheck.json" --kernel "$work/loadcheck-kernel.elf" \
	--programs "$work" --memory 256MiB -o "$work/loadcheck.elf"
status=0
timeout 120 qemu-system-aarch64 -M virt -cpu cortex-a72 -m 256M -display none -monitor none \
	-serial stdio -nic none -kernel "$work/loadcheck.elf" </dev/null >"$work/console.log" 2>&1 ||
	status=$?
cat "$work/console.log"
if [[ $status -ne 0 ]]; then
	echo "FAIL: QEMU exited with status $status" >&2
	exit 1
fi
grep -q "^image-load-check: first boot: loaded as packed" "$work/console.log" ||
	{ echo "FAIL: the first boot did not find the image loaded as packed" >&2; exit 1; }
grep -q "^image-load-check: ok" "$work/console.log" ||
	{ echo "FAIL: memory-only segments were not zeroed again after a reset" >&2; exit 1; }
if grep -q "FAIL" "$work/console.log"; then
	echo "FAIL: see the console above" >&2
	exit 1
fi
echo "qemu-load-check: QEMU loads pinion images as packed"
