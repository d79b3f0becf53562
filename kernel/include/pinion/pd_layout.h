/*
 * A native PD's address space (IPAs, through its stage-2 translation). The
 * PD runs at EL1 with its own stage-1 translation off, so its virtual
 * addresses are these IPAs; the kernel's stage-2 tables decide what each
 * one reaches and with which rights.
 *
 *   0x00100000  its generated configuration (struct pn_config), read-only
 *   0x00200000  its program, linked here (text, rodata, data, bss)
 *   0x00ff0000  .. 0x01000000: its stack
 *   0x20000000  upward: shared and device regions, at the addresses the
 *               system description gives or the packer picks
 */
#ifndef PINION_PD_LAYOUT_H
#define PINION_PD_LAYOUT_H

#define PN_PD_CONFIG_IPA  0x00100000ull
#define PN_PD_PROGRAM_IPA 0x00200000ull
#define PN_PD_PROGRAM_END 0x00f00000ull /* program segments must end below this */
#define PN_PD_STACK_TOP   0x01000000ull
#define PN_PD_STACK_SIZE  0x00010000ull
#define PN_PD_REGIONS_IPA 0x20000000ull /* where the packer starts placing regions */
#define PN_PD_IPA_LIMIT   (1ull << 39)  /* stage-2 input range: 39 bits */

#endif
