/*
 * Bare-metal test program for the pinion-count plugin (tests/plugin/).
 *
 * Runs at EL2 on QEMU virt (-M virt,virtualization=on -cpu cortex-a72
 * -smp 2), MMU off, no stack. vCPU 0 starts at _start; vCPU 1 is started
 * twice with PSCI CPU_ON (entry_b, then entry_c) and turns itself off with
 * PSCI CPU_OFF after each run, so everything vCPU 1 executes is
 * deterministic. vCPU 0 waits for vCPU 1 in OWNER_WAIT (the only
 * nondeterministic counts; it prints its wait-loop iteration counts on the
 * UART so that even they can be checked), then powers off with PSCI
 * SYSTEM_OFF.
 *
 * Every region is annotated with the count it contributes, as
 * [vcpu phase owner mode] += instructions; check_counts.py holds the same
 * derivation from params.h. Marker instructions count as kernel
 * instructions of the owner and phase before them; an eret counts in the
 * mode before it; a faulting instruction counts once per attempt.
 *
 * Mid-block synchronous exceptions (where mode=tb overcounts):
 *  - FAULT_BLOCK: a load from 1<<44 at EL2 (above cortex-a72's 44-bit
 *    physical address range, MMU off: an address size fault taken to EL2
 *    itself), in the middle of its block; the handler skips it (x25 = 0)
 *    or points x3 at a valid word and retries it (x25 = 1);
 *  - el1_a: `mrs x0, sctlr_el1` at EL1 with HCR_EL2.TRVM set traps to EL2;
 *    the handler skips it. (A trapped MSR *write* would not do: QEMU ends
 *    every block after a system-register write, so the write is always
 *    last in its block.)
 */
#include <pinion/markers.h>
#include "params.h"

/* 3 marker instructions: switch to owner `o`. */
.macro SWITCH o
    hint #PN_MARK_SWITCH
    hint #(PN_MARK_NIBBLE_BASE + (((\o) >> 4) & 0xf))
    hint #(PN_MARK_NIBBLE_BASE + ((\o) & 0xf))
.endm

/* 2 marker instructions: every core's counts go to phase `p`. */
.macro PHASE p
    hint #PN_MARK_PHASE
    hint #(PN_MARK_NIBBLE_BASE + (\p))
.endm

/* 1 + 2n instructions (x0). */
.macro LOOP n
    movz x0, #(\n)
9999: subs x0, x0, #1
    b.ne 9999b
.endm

/* n instructions. */
.macro STRAIGHT n
    .rept (\n)
    add x10, x10, #1
    .endr
.endm

/*
 * k + 3 instructions executed (one attempt at the load), or k + 4 when the
 * handler retries it (x25 = 1), plus the handler: 5 (skip) or 3 (retry).
 * The load starts a block of k + 1 instructions: [ldr, k - 1 adds, b].
 */
.macro FAULT_BLOCK k
    movz x3, #0x1000, lsl #32           /* 1 << 44 */
    b 9998f
    .balign 64                          /* the block cannot cross a page */
9998: ldr x4, [x3]
    STRAIGHT ((\k) - 1)
    b 9997f
9997:
.endm

/* 5 instructions: vectors, HCR_EL2 = hcr_hi << 16. */
.macro SETUP_EL2 hcr_hi
    adr x1, vectors
    msr vbar_el2, x1
    movz x1, #(\hcr_hi), lsl #16
    msr hcr_el2, x1
    isb
.endm

/* 7 kernel instructions: PD entry, then eret to `el1` at EL1h with
 * interrupts masked; its hvc comes back (6 more) to `back`. */
.macro ENTER_USER el1, back
    adr x1, \el1
    msr elr_el2, x1
    mov x1, #0x3c5
    msr spsr_el2, x1
    adr x27, \back
    hint #PN_MARK_PD_ENTRY
    eret
.endm

#define HCR_RW_HI      0x8000           /* HCR_EL2.RW: EL1 is AArch64 */
#define HCR_RW_TRVM_HI 0xc000           /* ... and TRVM: EL1 reads of VM regs trap */

    .section .text.boot, "ax"
    .global _start

/* ======================= vCPU 0 ======================= */
_start:                                 /* phase 0, owner 0, kernel */
    SETUP_EL2 HCR_RW_TRVM_HI            /* [0 0 0 K] += 5 */
    mov x25, #0                         /* += 1 (fault handler: skip) */
    LOOP N_BOOT                         /* += 1 + 2 N_BOOT */
    SWITCH OWNER_A                      /* += 3 */
    LOOP N_AK                           /* [0 0 A K] += 1 + 2 N_AK */
    FAULT_BLOCK K_FAULT_A               /* += K_FAULT_A + 3, handler += 5 */
    ENTER_USER el1_a, back_a            /* += 7; el1_a: trap handler += 10, hvc += 6 */
back_a:
    SWITCH 0                            /* [0 0 A K] += 3 */
    PHASE 1                             /* [0 0 0 K] += 2 */

    /* Start vCPU 1 at entry_b. */
    ldr x0, =PSCI_CPU_ON                /* [0 1 0 K] += 1 */
    mov x1, #1                          /* += 1 */
    adr x2, entry_b                     /* += 1 */
    mov x3, #0                          /* += 1 */
    smc #0                              /* += 1 */
    cbnz x0, unexpected                 /* += 1 */
    adr x2, flag_1                      /* += 1 */
    SWITCH OWNER_WAIT                   /* += 3 */

    /* Wait for vCPU 1 (OWNER_WAIT, phases 1 and 2: 9 + 3 iA + 7 iR + 3 iB).
     * The only nondeterministic code has a symbol of its own, so that
     * per-function counts can be compared across runs everywhere else:
     * wait_for_vcpu1 holds all of it but the final SWITCH. */
wait_for_vcpu1:
    mov x20, #0                         /* 1 */
1:  add x20, x20, #1                    /* 3 per iteration: iA */
    ldr w1, [x2]
    cbz w1, 1b
    dmb ish                             /* 1 */
    mov x21, #0                         /* 1 */
2:  add x21, x21, #1                    /* 7 per iteration: iR */
    ldr x0, =PSCI_CPU_ON                /* vCPU 1 may not be off yet: retry */
    mov x1, #1
    adr x2, entry_c
    mov x3, #0
    smc #0
    cbnz x0, 2b
    adr x2, flag_2                      /* 1 */
    mov x22, #0                         /* 1 */
3:  add x22, x22, #1                    /* 3 per iteration: iB */
    ldr w1, [x2]
    cbz w1, 3b
    dmb ish                             /* 1 */
waited:
    SWITCH 0                            /* 3 (phase 2 by now: vCPU 1 set it) */

    PHASE 3                             /* [0 2 0 K] += 2 */
    SWITCH OWNER_A                      /* [0 3 0 K] += 3 */
    LOOP N_A3                           /* [0 3 A K] += 1 + 2 N_A3 */
    PHASE 15                            /* += 2 */
    SWITCH OWNER_MAX                    /* [0 15 A K] += 3 */
    LOOP N_MAX                          /* [0 15 MAX K] += 1 + 2 N_MAX */
    SWITCH OWNER_PRINT                  /* += 3 */

    movz x8, #(UART_BASE >> 16), lsl #16 /* [0 15 PRINT K] += 1 */
    mov x4, x20                         /* += 1 */
    bl print_hex                        /* += 1 + 152 */
    mov x4, x21                         /* += 1 */
    bl print_hex                        /* += 1 + 152 */
    mov x4, x22                         /* += 1 */
    bl print_hex                        /* += 1 + 152 */
    ldr x0, =PSCI_SYSTEM_OFF            /* += 1 */
    smc #0                              /* += 1; does not return */
    b unexpected

/* "W <16 hex digits>\n" on the UART: 152 instructions, whatever x4 is. */
print_hex:
    mov w5, #'W'
    strb w5, [x8]
    mov w5, #' '
    strb w5, [x8]
    mov x9, #16
1:  ubfx x5, x4, #60, #4                /* 9 per digit, no data-dependent branch */
    add x6, x5, #'0'
    add x7, x5, #('a' - 10)
    cmp x5, #10
    csel x5, x6, x7, lo
    strb w5, [x8]
    lsl x4, x4, #4
    subs x9, x9, #1
    b.ne 1b
    mov w5, #'\n'
    strb w5, [x8]
    ret

el1_a:                                  /* EL1, [0 0 A U] */
    LOOP N_AU                           /* += 1 + 2 N_AU */
    mrs x0, sctlr_el1                   /* += 1: traps (TRVM), skipped; starts a block */
    STRAIGHT (K_TRAP_A - 1)             /* += K_TRAP_A - 1 */
    hvc #0                              /* += 1 */

/* ======================= vCPU 1, first run (phase 1) ======================= */
entry_b:                                /* phase 1, owner 0, kernel */
    SETUP_EL2 HCR_RW_HI                 /* [1 1 0 K] += 5 */
    mov x25, #0                         /* += 1 */
    SWITCH OWNER_B                      /* += 3 */
    LOOP N_BK                           /* [1 1 B K] += 1 + 2 N_BK */
    FAULT_BLOCK K_FAULT_B               /* += K_FAULT_B + 3, handler += 5 */

    /* Malformed and edge-case marker sequences: [1 1 B K] += 9. */
    hint #PN_MARK_SWITCH                /* switch, one nibble, then ... */
    hint #(PN_MARK_NIBBLE_BASE + 5)
    add x10, x10, #1                    /* ... a plain instruction: malformed 1 */
    hint #(PN_MARK_NIBBLE_BASE + 3)     /* a nibble nobody expects: malformed 2 */
    hint #PN_MARK_PHASE                 /* phase, then ... */
    nop                                 /* ... a non-marker hint: malformed 3 */
    .if (OWNER_F7 >> 4) != 0xf
    .error "OWNER_F7 must have high nibble 0xf"
    .endif
    hint #PN_MARK_SWITCH                /* switch, then the switch value 0x7f */
    hint #PN_MARK_SWITCH                /* read as nibble 0xf (not malformed) */
    hint #(PN_MARK_NIBBLE_BASE + (OWNER_F7 & 0xf))

    LOOP N_F7                           /* [1 1 F7 K] += 1 + 2 N_F7 */
    SWITCH OWNER_B                      /* += 3 */
    ENTER_USER el1_b, back_b            /* [1 1 B K] += 7, hvc += 6 */
back_b:
    SWITCH 0                            /* [1 1 B K] += 3 */
    adr x1, flag_1                      /* [1 1 0 K] += 1 */
    mov w2, #1                          /* += 1 */
    dmb ish                             /* += 1 */
    str w2, [x1]                        /* += 1 */
    ldr x0, =PSCI_CPU_OFF               /* += 1 */
    smc #0                              /* += 1; does not return */
    b unexpected

el1_b:                                  /* EL1, [1 1 B U] */
    LOOP N_BU                           /* += 1 + 2 N_BU */
    hvc #0                              /* += 1 */

/* ======================= vCPU 1, second run ======================= */
entry_c:                                /* phase 1, owner 0, kernel */
    PHASE 2                             /* [1 1 0 K] += 2 */
    SETUP_EL2 HCR_RW_HI                 /* [1 2 0 K] += 5 */
    mov x25, #1                         /* += 1 (fault handler: retry) */
    SWITCH OWNER_C                      /* += 3 */
    LOOP N_CK                           /* [1 2 C K] += 1 + 2 N_CK */
    ENTER_USER el1_c, back_c            /* += 7, hvc += 6 */
back_c:
    FAULT_BLOCK K_FAULT_C               /* += K_FAULT_C + 4 (load twice), handler += 3 */
    SWITCH 0                            /* += 3 */
    adr x1, flag_2                      /* [1 2 0 K] += 1 */
    mov w2, #1                          /* += 1 */
    dmb ish                             /* += 1 */
    str w2, [x1]                        /* += 1 */
    ldr x0, =PSCI_CPU_OFF               /* += 1 */
    smc #0                              /* += 1; does not return */
    b unexpected

el1_c:                                  /* EL1, [1 2 C U] */
    LOOP N_CU                           /* += 1 + 2 N_CU */
    hvc #0                              /* += 1 */

/* Anything unexpected: owner OWNER_BAD (the check fails), power off. */
unexpected:
    SWITCH OWNER_BAD
    ldr x0, =PSCI_SYSTEM_OFF
    smc #0
    b .

    .ltorg

/* ======================= EL2 vectors ======================= */
    .balign 2048
vectors:
    .rept 4                             /* current EL with SP_EL0 */
    b unexpected
    .balign 0x80
    .endr

    /* 0x200: synchronous, current EL with SP_EL2: the FAULT_BLOCK load. */
    cbnz x25, 1f
    mrs x26, elr_el2                    /* skip: 5 instructions */
    add x26, x26, #4
    msr elr_el2, x26
    eret
1:  adr x3, scratch                     /* retry at a valid address: 3 */
    eret
    .balign 0x80
    .rept 3
    b unexpected
    .balign 0x80
    .endr

    /* 0x400: synchronous, lower EL (AArch64): hvc or trapped msr. */
    hint #PN_MARK_KERNEL_ENTRY
    mrs x26, esr_el2
    ubfx x26, x26, #26, #6              /* exception class */
    cmp x26, #0x16                      /* HVC64 */
    b.ne 1f
    br x27                              /* hvc: 6 instructions */
1:  mrs x26, elr_el2                    /* trapped mrs: skip it, */
    add x26, x26, #4
    msr elr_el2, x26
    hint #PN_MARK_PD_ENTRY              /* and go back to the PD: 10 */
    eret
    .balign 0x80
    .rept 7                             /* the rest, and lower EL AArch32 */
    b unexpected
    .balign 0x80
    .endr

    .data
    .balign 8
flag_1:  .word 0
flag_2:  .word 0
scratch: .quad 0x5ca1ab1e
