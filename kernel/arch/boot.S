/*
 * Entry at EL2. QEMU starts the primary core here (x0 = 0 for an ELF);
 * secondaries arrive at secondary_entry through PSCI CPU_ON with their core
 * index as context id. Each core gets its own kernel stack, then C takes
 * over in kernel_main.
 */
#include "asm.h"

    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, #0
    /* Only the primary clears .bss: nothing else runs yet. */
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    common_entry
    str     xzr, [x1], #8
    b       1b

    .global secondary_entry
secondary_entry:
    mov     x19, x0

common_entry:
    msr     daifset, #0xf
    mrs     x1, CurrentEL
    cmp     x1, #(2 << 2)
    b.ne    not_el2
    ldr     x1, =kernel_stacks
    mov     x2, #KERNEL_STACK_SIZE
    madd    x1, x19, x2, x1
    add     sp, x1, x2
    ldr     x1, =vectors_el2
    msr     vbar_el2, x1
    isb
    mov     x0, x19
    bl      kernel_main
    b       park

not_el2:
    /* Without EL2 there is no stage-2 isolation: refuse to run. */
    ldr     x0, =0x09000000
    adr     x1, not_el2_message
2:  ldrb    w2, [x1], #1
    cbz     w2, park
    strb    w2, [x0]
    b       2b

park:
    wfi
    b       park

    .section .rodata
not_el2_message:
    .asciz "pinion: not started at EL2; run QEMU with -M virt,virtualization=on\n"
