#!/bin/sh
# Test of the pinion-count QEMU plugin: build the bare-metal program
# tests/plugin/prog.S, run it on 2 vCPUs under the plugin (exact mode twice,
# tb mode once, exact mode once more reporting through QEMU's log), and
# check every count against the values derived from the program
# (check_counts.py). Also: `help` and an unknown argument make QEMU refuse
# to start.
#
# usage: check-plugin.sh PLUGIN_SO WORK_DIR
# A missing qemu-system-aarch64 or cross compiler is a failure: tools/install-deps
# provides both.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 PLUGIN_SO WORK_DIR" >&2
    exit 2
fi
plugin=$(realpath "$1")
work=$2
src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/../.." && pwd)
CC=${AARCH64_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU:-qemu-system-aarch64}

for tool in "$CC" "$QEMU" python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "FAIL: $tool not found (run tools/install-deps)" >&2
        exit 1
    fi
done
[ -f "$plugin" ] || { echo "no plugin at $1" >&2; exit 1; }

mkdir -p "$work"
rm -f "$work"/*.json "$work"/*.uart "$work"/*.log "$work"/*.err

"$CC" -nostdlib -ffreestanding -static -I"$root/kernel/include" -I"$src" \
    -T "$src/prog.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
    -o "$work/prog.elf" "$src/prog.S"

# qemu ARGS... : run the program on 2 vCPUs, 60 s at most.
qemu() {
    timeout 60 "$QEMU" -M virt,virtualization=on,gic-version=3 -cpu cortex-a72 \
        -smp 2 -m 256M -nographic -nic none -kernel "$work/prog.elf" "$@" </dev/null
}

# run NAME MODE: one run, report in NAME.json, UART output in NAME.uart.
run() {
    if ! qemu -plugin "$plugin,mode=$2,out=$work/$1.json" >"$work/$1.uart" 2>"$work/$1.err"; then
        echo "FAIL: qemu run $1 (mode=$2) failed:" >&2
        cat "$work/$1.err" >&2
        exit 1
    fi
    [ ! -e "$work/$1.json.tmp" ] || { echo "FAIL: $1.json.tmp left behind" >&2; exit 1; }
}

run exact1 exact
run exact2 exact
run tb tb

# Without out=, the report goes to QEMU's log (-d plugin -D FILE).
qemu -plugin "$plugin" -d plugin -D "$work/log.log" >"$work/log.uart" 2>"$work/log.err"
sed -n '/^{"plugin"/,$p' "$work/log.log" >"$work/log.json"

# help, and an unknown argument: usage on stderr, QEMU does not start.
for arg in help mode=fast bogus=1; do
    if qemu -plugin "$plugin,$arg" >"$work/arg.uart" 2>"$work/arg.err"; then
        echo "FAIL: QEMU started with plugin argument '$arg'" >&2
        exit 1
    fi
    grep -q "^usage: -plugin pinion-count.so" "$work/arg.err" ||
        { echo "FAIL: no usage for plugin argument '$arg'" >&2; cat "$work/arg.err" >&2; exit 1; }
done

python3 "$src/check_counts.py" "$src/params.h" \
    "$work/exact1.json" "$work/exact1.uart" "$work/exact2.json" "$work/exact2.uart" \
    "$work/tb.json" "$work/tb.uart" "$work/log.json" "$work/log.uart"
