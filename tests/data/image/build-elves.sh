#!/usr/bin/env bash
# Builds the aarch64 ELF files the image packer's tests use, into OUT_DIR:
#   counting.elf  plain.elf      PD programs at 0x200000 (one with a counter table)
#   low.elf                      counting.c linked at 0x100000, outside the program window
#   fake-kernel.elf              a kernel stand-in at 0x40200000
#   misplaced-kernel.elf         the same at 0x40000000, outside the kernel's area
#   loadcheck-kernel.elf         a kernel that checks how QEMU loaded the image
# usage: build-elves.sh SOURCE_DIR OUT_DIR
set -euo pipefail
src=$1 out=$2
data=$src/tests/data/image
mkdir -p "$out"
cc=aarch64-linux-gnu-gcc
flags=(-std=c11 -O2 -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns -nostdlib
	-static -no-pie -fno-pic -mgeneral-regs-only -mstrict-align -fno-stack-protector
	-Wall -Wextra -Werror -Wl,--build-id=none
	-I"$src/components/include" -I"$src/kernel/include")
"$cc" "${flags[@]}" -T "$data/program.ld" "$data/counting.c" -o "$out/counting.elf"
"$cc" "${flags[@]}" -T "$data/program.ld" "$data/plain.c" -o "$out/plain.elf"
"$cc" "${flags[@]}" -T "$data/program.ld" -Wl,--defsym=LINK_BASE=0x100000 "$data/counting.c" \
	-o "$out/low.elf"
"$cc" "${flags[@]}" -T "$data/kernel.ld" "$data/fake_kernel.S" -o "$out/fake-kernel.elf"
"$cc" "${flags[@]}" -T "$data/kernel.ld" -Wl,--defsym=KERNEL_BASE=0x40000000 \
	"$data/fake_kernel.S" -o "$out/misplaced-kernel.elf"
"$cc" "${flags[@]}" -T "$data/kernel.ld" "$data/loadcheck_start.S" "$data/loadcheck_kernel.c" \
	-o "$out/loadcheck-kernel.elf"
