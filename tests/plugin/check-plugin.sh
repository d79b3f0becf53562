#!/bin/sh
# Test of the pinion-count QEMU plugin: build the bare-metal program
# tests/plugin/prog.S, run it on 2 vCPUs under the plugin (exact mode twice,
# tb mode once, exact mode once more reporting through QEMU's log), and
# check every count against the values derived from the program
# (check_counts.py). The two exact runs also count per function, with maps
# made by nm from the program (check_functions.py). Also: `help`, an
# unknown argument, and a missing or empty map make QEMU refuse to start.
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
NM=${AARCH64_NM:-aarch64-linux-gnu-nm}
command -v "$NM" >/dev/null 2>&1 || NM=nm

for tool in "$CC" "$QEMU" "$NM" python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "FAIL: $tool not found (run tools/install-deps)" >&2
        exit 1
    fi
done
[ -f "$plugin" ] || { echo "no plugin at $1" >&2; exit 1; }

mkdir -p "$work"
rm -f "$work"/*.json "$work"/*.uart "$work"/*.log "$work"/*.err "$work"/*.map

"$CC" -nostdlib -ffreestanding -static -I"$root/kernel/include" -I"$src" \
    -T "$src/prog.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
    -o "$work/prog.elf" "$src/prog.S"

# Maps of the program's functions, System.map style: one from nm as it is;
# one with aliases of _start ($x, start_alias, .Lalias: _start must win),
# back_b renamed back_a (two functions of one name: reported as one), an
# undefined symbol and a line that is no symbol, the rest in reverse order.
# Both must give the same counts. A data-only map has no functions.
"$NM" -n "$work/prog.elf" >"$work/prog.map"
start=$(awk '$3 == "_start" { print $1 }' "$work/prog.map")
{
    echo "$start t \$x"
    grep -w _start "$work/prog.map"
    echo "$start W start_alias"
    echo "$start t .Lalias"
    grep -vw _start "$work/prog.map" | sed 's/ back_b$/ back_a/' | tac
    echo "                 U undefined_symbol"
    echo "not a symbol line"
} >"$work/prog-shuffled.map"
grep ' [dD] ' "$work/prog.map" >"$work/data-only.map"

# qemu ARGS... : run the program on 2 vCPUs, 60 s at most.
qemu() {
    timeout 60 "$QEMU" -M virt,virtualization=on,gic-version=3 -cpu cortex-a72 \
        -smp 2 -m 256M -nographic -nic none -kernel "$work/prog.elf" "$@" </dev/null
}

# run NAME MODE [ARG]: one run (ARG: one more plugin argument), report in
# NAME.json, UART output in NAME.uart.
run() {
    if ! qemu -plugin "$plugin,mode=$2,out=$work/$1.json${3:+,$3}" >"$work/$1.uart" \
        2>"$work/$1.err"; then
        echo "FAIL: qemu run $1 (mode=$2) failed:" >&2
        cat "$work/$1.err" >&2
        exit 1
    fi
    [ ! -e "$work/$1.json.tmp" ] || { echo "FAIL: $1.json.tmp left behind" >&2; exit 1; }
}

run exact1 exact "symbols=$work/prog.map"
run exact2 exact "symbols=$work/prog-shuffled.map"
run tb tb

# Without out=, the report goes to QEMU's log (-d plugin -D FILE).
qemu -plugin "$plugin" -d plugin -D "$work/log.log" >"$work/log.uart" 2>"$work/log.err"
sed -n '/^{"plugin"/,$p' "$work/log.log" >"$work/log.json"

# help, an unknown argument, a map that cannot be read or has no function:
# usage on stderr, QEMU does not start.
for arg in help mode=fast bogus=1 "symbols=$work/missing.map" "symbols=$work/data-only.map"; do
    if qemu -plugin "$plugin,$arg" >"$work/arg.uart" 2>"$work/arg.err"; then
        echo "FAIL: QEMU started with plugin argument '$arg'" >&2
        exit 1
    fi
    grep -q "^usage: -plugin pinion-count.so" "$work/arg.err" ||
        { echo "FAIL: no usage for plugin argument '$arg'" >&2; cat "$work/arg.err" >&2; exit 1; }
    case $arg in
    symbols=*)
        grep -q "^pinion-count: symbols=: .*${arg#symbols=}" "$work/arg.err" ||
            { echo "FAIL: no error naming the map for '$arg'" >&2; cat "$work/arg.err" >&2; exit 1; }
        ;;
    esac
done

python3 "$src/check_counts.py" "$src/params.h" \
    "$work/exact1.json" "$work/exact1.uart" "$work/exact2.json" "$work/exact2.uart" \
    "$work/tb.json" "$work/tb.uart" "$work/log.json" "$work/log.uart"
python3 "$src/check_functions.py" "$src/params.h" \
    "$work/exact1.json" "$work/exact1.uart" "$work/exact2.json" "$work/exact2.uart" \
    "$work/tb.json" "$work/log.json"
