/*
 * Accounting markers: no-op `hint #0x70`..`hint #0x7f` instructions the
 * kernel executes at switch points, decoded by the instruction-counting
 * plugin (experiments/plugin/) to attribute every retired instruction on a
 * core to the PD or vCPU it was spent for, and to whether it ran in that PD
 * (user) or in the kernel on its behalf.
 *
 * Protocol, per core (a marker sequence is straight-line EL2 code with
 * interrupts masked, so it is never split):
 *   HINT(0x7e)                 kernel entry: from here on, kernel mode
 *   HINT(0x7f) N(hi) N(lo)     switch: kernel time is now charged to owner
 *                              (hi << 4 | lo); owner 0 is the kernel itself
 *                              (boot, idle)
 *   HINT(0x7d)                 PD entry: the instructions after the next
 *                              exception return run in the owner, user mode
 *   HINT(0x7c) N(phase)        phase: every core's counts go to `phase`
 *                              from here on (measurement windows)
 * where N(n) is HINT(0x70 + n), n = 0..15. A nibble is read as a nibble
 * even when its value is 0x7c..0x7f: the decoder knows it expects one.
 * The marker instructions themselves count as kernel instructions.
 */
#ifndef PINION_MARKERS_H
#define PINION_MARKERS_H

#define PN_MARK_NIBBLE_BASE  0x70
#define PN_MARK_PHASE        0x7c
#define PN_MARK_PD_ENTRY     0x7d
#define PN_MARK_KERNEL_ENTRY 0x7e
#define PN_MARK_SWITCH       0x7f

#define PN_OWNER_KERNEL 0   /* boot, idle, work for no PD */
#define PN_OWNER_MAX    255 /* owners are 8-bit */
#define PN_PHASE_MAX    15

/* The encoding of `hint #imm` on aarch64. */
#define PN_HINT_ENCODING(imm) (0xd503201fu | ((unsigned)(imm) << 5))

#endif
