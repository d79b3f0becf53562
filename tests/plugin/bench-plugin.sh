#!/bin/sh
# Run-time cost of the pinion-count plugin (docs/accounting.md): wall time
# of qemu-system-aarch64 without the plugin, with mode=tb and mode=exact, on
# bench.S (7 * ITER + 5 instructions, ITER = 43000000 by default: about 301
# million; with and without loads/stores) and on the test program prog.S.
# Best of REPS runs (default 3).
#
# usage: bench-plugin.sh PLUGIN_SO WORK_DIR
set -eu
plugin=$(realpath "$1")
work=$2
src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/../.." && pwd)
CC=${AARCH64_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU:-qemu-system-aarch64}
REPS=${REPS:-3}
ITER=${ITER:-43000000}
mkdir -p "$work"

build() { # OUT SRC CPPFLAGS...
    out=$1 s=$2; shift 2
    "$CC" -nostdlib -ffreestanding -static -I"$root/kernel/include" -I"$src" "$@" \
        -T "$src/prog.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments -o "$out" "$s"
}
build "$work/bench-mem.elf" "$src/bench.S" -DBENCH_MEM=1 -DBENCH_ITER="$ITER"
build "$work/bench-alu.elf" "$src/bench.S" -DBENCH_MEM=0 -DBENCH_ITER="$ITER"
build "$work/prog.elf" "$src/prog.S"

# time1 ELF SMP PLUGIN_ARGS: seconds for one run
time1() {
    s=$(date +%s.%N)
    timeout 600 "$QEMU" -M virt,virtualization=on,gic-version=3 -cpu cortex-a72 \
        -smp "$2" -m 256M -nographic -nic none -kernel "$1" $3 </dev/null >/dev/null
    e=$(date +%s.%N)
    echo "$s $e" | awk '{printf "%.3f", $2 - $1}'
}

printf "%-10s %-6s %10s %12s %8s\n" program mode "best s" instructions slowdown
for prog in bench-mem:1 bench-alu:1 prog:2; do
    elf=$work/${prog%:*}.elf smp=${prog#*:}
    base=
    for mode in none tb exact; do
        args=
        [ $mode = none ] || args="-plugin $plugin,mode=$mode,out=$work/bench.json"
        best=
        i=0
        while [ $i -lt "$REPS" ]; do
            t=$(time1 "$elf" "$smp" "$args")
            if [ -z "$best" ] || [ "$(echo "$t $best" | awk '{print ($1 < $2)}')" = 1 ]; then
                best=$t
            fi
            i=$((i + 1))
        done
        n=-
        [ $mode = none ] || n=$(python3 -c "import json; print(sum(v['total'] for v in json.load(open('$work/bench.json'))['per_vcpu']))")
        [ -n "$base" ] || base=$best
        printf "%-10s %-6s %10s %12s %7.2fx\n" "${prog%:*}" $mode "$best" "$n" \
            "$(echo "$best $base" | awk '{print $1 / $2}')"
    done
done
