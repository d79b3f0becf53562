#!/usr/bin/env bash
# The transport headers compile freestanding for aarch64 with the flags of
# target code (cmake/aarch64-linux-gnu.cmake), and the signal handshake
# compiles to store-release/load-acquire pairs without barriers (dmb) or
# calls to out-of-line atomics; the net path copies descriptors by words,
# not byte by byte.
# usage: check-ring-codegen.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2
mkdir -p "$work"
cc=aarch64-linux-gnu-gcc
"$cc" -std=c11 -O2 -ffreestanding -nostdlib -mgeneral-regs-only -mno-outline-atomics -mstrict-align \
	-Wall -Wextra -Werror -I"$src/components/include" \
	-c "$src/tests/target/ring_codegen.c" -o "$work/ring_codegen.o"
aarch64-linux-gnu-objdump -d "$work/ring_codegen.o" >"$work/ring_codegen.dis"

fail() { echo "FAIL: $*" >&2; exit 1; }
body() { awk -v f="<$1>:" '$2 == f {on=1; next} /^$/ {on=0} on' "$work/ring_codegen.dis"; }

grep -q "dmb" "$work/ring_codegen.dis" && fail "a barrier (dmb) in the transport: $(grep dmb "$work/ring_codegen.dis" | head -3)"
producer=$(body codegen_producer_push_and_check)
consumer=$(body codegen_consumer_may_sleep)
take=$(body codegen_take)
[ -n "$producer" ] && [ -n "$consumer" ] && [ -n "$take" ] || fail "functions not found in the disassembly"
# The net hot path inlines everything (byte streams may call memcpy for bulk copies).
for f in "$producer" "$consumer" "$take"; do
	grep -qE "\sbl\s" <<<"$f" && fail "a call on the net hot path: $(grep -E '\sbl\s' <<<"$f" | head -3)"
done
# Producer: publish (stlr), republish in the handshake (stlr), look at the flag (ldar).
[ "$(grep -c stlr <<<"$producer")" -ge 2 ] || fail "producer: expected two stlr, got: $producer"
grep -q ldar <<<"$producer" || fail "producer: no ldar of the flag"
# Consumer: request (stlr), then the double check's load of tail (ldar), in that order.
order=$(grep -oE "stlr|ldar" <<<"$consumer" | tr '\n' ' ')
[[ "$order" == "stlr ldar"* ]] || fail "consumer: expected stlr then ldar, got '$order'"
# A 16-byte descriptor copied byte by byte takes 16 byte loads: the whole
# take-and-give path must do with far fewer.
byte_loads=$(grep -cE "\sldrb\s" <<<"$take$producer" || true)
[ "$byte_loads" -le 4 ] || fail "descriptors copied byte by byte ($byte_loads ldrb on the net path)"
echo "ok: transport freestanding on aarch64; handshake is stlr/ldar, no dmb; net path makes no calls, copies by words"
