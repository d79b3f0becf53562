/*
 * Benchmark for the pinion-count plugin's run-time cost (bench-plugin.sh):
 * one vCPU runs BENCH_ITER iterations of a 7-instruction loop, then powers
 * off. BENCH_MEM=1: the body has a load and a store (3 segments per
 * iteration in exact mode, 1 in tb mode); BENCH_MEM=0: ALU only (1 segment
 * per iteration in both modes). Instructions executed: 7 * BENCH_ITER + 5.
 */
#include "params.h"

#ifndef BENCH_ITER
#define BENCH_ITER 43000000
#endif
#ifndef BENCH_MEM
#define BENCH_MEM 1
#endif

    .section .text.boot, "ax"
    .global _start
_start:
    adr x2, buf
    movz x0, #(BENCH_ITER & 0xffff)
    movk x0, #((BENCH_ITER >> 16) & 0xffff), lsl #16
1:
#if BENCH_MEM
    ldr x3, [x2]
    add x3, x3, #1
    str x3, [x2, #8]
#else
    add x3, x3, #1
    add x6, x6, x3
    eor x7, x7, x6
#endif
    eor x4, x4, x3
    add x5, x5, x4
    subs x0, x0, #1
    b.ne 1b
    ldr x0, =PSCI_SYSTEM_OFF
    smc #0
    b .
    .ltorg

    .data
    .balign 16
buf: .quad 0, 0
