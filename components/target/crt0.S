/*
 * A native PD starts here at EL1, stage 1 off, with its stack pointer set
 * by the kernel. It installs its exception vectors, which report anything
 * taken inside the PD to the kernel as a fault.
 */
    .section .text.start, "ax"
    .global _start
_start:
    adr     x0, pd_vectors
    msr     vbar_el1, x0
    isb
    bl      pn_pd_main
1:  b       1b

    /*
     * The syndrome, return address and fault address go in registers: the
     * kernel does not keep these EL1 registers per PD.
     */
    .macro report vector
    .balign 0x80
    mov     x0, #\vector
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    hvc     #6              /* PN_SYS_FAULT: the kernel stops the PD */
    b       .
    .endm

    .section .text, "ax"
    .balign 0x800
pd_vectors:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    report \v
    .endr
