/*
 * Measurement phases marked from inside a Linux guest, for pinion's
 * instruction counter: the marker instructions of
 * kernel/include/pinion/markers.h, which are no-ops for the CPU and
 * allowed at any exception level. Used by the native-Linux baselines
 * (udp-echo, l2-echo in user space; pinion_l2_echo in the kernel), where
 * no pinion kernel is there to mark the window (docs/accounting.md).
 */
#ifndef PINION_GUEST_PHASE_H
#define PINION_GUEST_PHASE_H

#include <pinion/markers.h>

/* `phase` must be a constant from 0 to 15. */
#if defined(__aarch64__)
#define GUEST_MARK_PHASE(phase)                                                                    \
    __asm__ volatile("hint %0\n\thint %1" ::"i"(PN_MARK_PHASE), "i"(PN_MARK_NIBBLE_BASE + (phase)) \
                     : "memory")
#else
#define GUEST_MARK_PHASE(phase) ((void)(phase))
#endif

#endif
