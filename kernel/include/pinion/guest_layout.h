/*
 * A virtual machine's physical address space (IPAs), as the kernel
 * emulates it and the guest's device tree describes it. It follows QEMU's
 * virt board, so an unmodified Linux finds everything where it expects.
 *
 *   0x08000000  GICv3 distributor (64 KiB)        emulated: accesses trap
 *   0x080a0000  GICv3 redistributors, 128 KiB per vCPU   emulated
 *   0x09000000  PL011 UART (4 KiB)                 emulated: the VM's console
 *   0x0a000000  virtio-mmio transports: a passed-through device's page is
 *               mapped through, at its physical address
 *   0x0b000000  doorbells: page i is channel i's (a write notifies the peer)
 *   RAM and shared regions: at their physical addresses (IPA = PA), because
 *               a passed-through device DMAs to the addresses the guest
 *               gives it and there is no IOMMU
 *
 * Interrupts: the passed-through devices' at their physical INTIDs; the
 * virtual timer PPI 27; channel i's notification SPI INTID 96 + i.
 */
#ifndef PINION_GUEST_LAYOUT_H
#define PINION_GUEST_LAYOUT_H

#define PN_GUEST_GICD_BASE     0x08000000ull
#define PN_GUEST_GICD_SIZE     0x00010000ull
#define PN_GUEST_GICR_BASE     0x080a0000ull
#define PN_GUEST_GICR_STRIDE   0x00020000ull
#define PN_GUEST_UART_BASE     0x09000000ull
#define PN_GUEST_UART_SIZE     0x00001000ull
#define PN_GUEST_UART_INTID    33
#define PN_GUEST_DOORBELL_BASE 0x0b000000ull
#define PN_GUEST_DOORBELL_SIZE 0x00001000ull /* one page per channel id */
#define PN_GUEST_CHANNEL_INTID 96            /* channel i notifies with INTID 96 + i */
#define PN_GUEST_VTIMER_INTID  27
#define PN_GUEST_SPI_LIMIT     160 /* the virtual distributor's lines: INTIDs < this */

/* Where the packer puts the guest's boot pieces in its RAM (offsets from its base). */
#define PN_GUEST_DTB_OFFSET    0x00000000ull /* device tree, at most 1 MiB */
#define PN_GUEST_DTB_MAX       0x00100000ull
#define PN_GUEST_KERNEL_OFFSET 0x00200000ull /* the arm64 Image, 2 MiB aligned */

#endif
