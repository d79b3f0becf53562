/*
 * Emitting accounting markers (pinion/markers.h). A hint's immediate is
 * part of the instruction, and a marker sequence must be consecutive
 * instructions, so every possible sequence is laid out in a table and the
 * marker is emitted by branching to its entry.
 */
    .section .text, "ax"

/* 256 entries of 16 bytes: hint 0x7f, high nibble, low nibble, ret. */
    .balign 16
switch_table:
    .irp hi, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .irp lo, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    hint    #0x7f
    hint    #(0x70 + \hi)
    hint    #(0x70 + \lo)
    ret
    .endr
    .endr

/* 16 entries of 16 bytes: hint 0x7c, the phase nibble, ret, padding. */
    .balign 16
phase_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    hint    #0x7c
    hint    #(0x70 + \n)
    ret
    nop
    .endr

/* void mark_switch(uint32_t owner): owner 0..255 */
    .global mark_switch
mark_switch:
    adr     x16, switch_table
    and     x17, x0, #0xff
    add     x16, x16, x17, lsl #4
    br      x16

/* void mark_phase(uint32_t phase): phase 0..15 */
    .global mark_phase
mark_phase:
    adr     x16, phase_table
    and     x17, x0, #0xf
    add     x16, x16, x17, lsl #4
    br      x16
