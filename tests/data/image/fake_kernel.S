/* A stand-in for the kernel: the packer only needs its segments and entry. */
    .section .text.start, "ax"
    .global _start
_start:
    wfe
    b _start

    .data
    .quad 0x6b6e72656b656b61

    .bss
    .space 8192
