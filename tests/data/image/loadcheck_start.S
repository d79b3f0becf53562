/* Entry of the QEMU load-check kernel: a stack in its own bss, then C. */
    .section .text.start, "ax"
    .global _start
_start:
    ldr x1, =loadcheck_stack_top
    mov sp, x1
    bl loadcheck_main
1:  wfe
    b 1b

    .bss
    .balign 16
    .space 16384
loadcheck_stack_top:
