/*
 * EL2 exception vectors. From a PD (lower EL, AArch64): mark the kernel
 * entry for the instruction counter, save the PD's registers into the
 * core's current context, and let C decide; C may pick another PD, whose
 * context kernel_exit then restores. The kernel itself runs with
 * interrupts masked and never takes exceptions from EL2; if it does, that
 * is a kernel bug, reported by kernel_trap.
 */
#include "asm.h"

    /* Entered with the PD's x0 and x1 pushed on the kernel stack. */
    .macro save_context
    mrs     x0, tpidr_el2
    ldr     x0, [x0]                 /* struct core: ctx at offset 0 */
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    str     x30, [x0, #240]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x0, #0]
    mrs     x2, sp_el1
    mrs     x3, elr_el2
    mrs     x4, spsr_el2
    str     x2, [x0, #CONTEXT_SP_EL1]
    stp     x3, x4, [x0, #CONTEXT_ELR]
    .endm

    /* A vector slot holds 32 instructions: mark, free two registers, go. */
    .macro lower_el entry
    .balign 0x80
    hint    #0x7e                    /* kernel entry marker */
    stp     x0, x1, [sp, #-16]!
    b       \entry
    .endm

    .macro lower_el_entry name, handler
\name:
    save_context
    bl      \handler
    b       kernel_exit
    .endm

    .macro kernel_el kind
    .balign 0x80
    mov     x0, #\kind
    b       kernel_trap_entry
    .endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global vectors_el2
vectors_el2:
    kernel_el 0    /* current EL, SP_EL0: sync */
    kernel_el 1    /* irq */
    kernel_el 2    /* fiq */
    kernel_el 3    /* serror */
    kernel_el 4    /* current EL, SP_ELx: sync */
    kernel_el 5
    kernel_el 6
    kernel_el 7
    lower_el lower_sync
    lower_el lower_irq
    kernel_el 10   /* fiq from a PD: not used */
    lower_el lower_serror
    kernel_el 12   /* lower EL, AArch32: PDs never run AArch32 */
    kernel_el 13
    kernel_el 14
    kernel_el 15

    lower_el_entry lower_sync, handle_lower_sync
    lower_el_entry lower_irq, handle_lower_irq
    lower_el_entry lower_serror, handle_lower_serror

/*
 * The same for a guest's vCPU: the table is switched with the kind of PD
 * loaded on the core, so neither kind pays for telling them apart.
 */
    .balign 0x800
    .global vectors_el2_guest
vectors_el2_guest:
    kernel_el 0
    kernel_el 1
    kernel_el 2
    kernel_el 3
    kernel_el 4
    kernel_el 5
    kernel_el 6
    kernel_el 7
    lower_el guest_sync
    lower_el guest_irq
    kernel_el 10
    lower_el guest_serror
    kernel_el 12
    kernel_el 13
    kernel_el 14
    kernel_el 15

    lower_el_entry guest_sync, handle_guest_sync
    lower_el_entry guest_irq, handle_guest_irq
    lower_el_entry guest_serror, handle_guest_serror

kernel_trap_entry:
    mrs     x1, esr_el2
    mrs     x2, elr_el2
    mrs     x3, far_el2
    bl      kernel_trap
1:  wfi
    b       1b

/* Restores the core's current context and returns to it. */
    .global kernel_exit
kernel_exit:
    mrs     x0, tpidr_el2
    ldr     x1, [x0, #CORE_STACK_TOP]
    mov     sp, x1                   /* whatever C called this from, its frames are done */
    ldr     x0, [x0]
    ldr     x2, [x0, #CONTEXT_SP_EL1]
    ldp     x3, x4, [x0, #CONTEXT_ELR]
    msr     sp_el1, x2
    msr     elr_el2, x3
    msr     spsr_el2, x4
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0, #0]
    hint    #0x7d                    /* PD entry marker: what follows the eret is the PD's */
    eret
