/*
 * The system call ABI between PDs and the kernel: `hvc #N` with the call
 * number N in the instruction, arguments in x0 and x1, a result in x0.
 */
#ifndef PINION_SYSCALLS_H
#define PINION_SYSCALLS_H

enum pn_syscall {
    /*
     * Wait for notifications; returns the channels that fired (a bit per
     * channel id) in x0, and in x1 the channels whose peer has stopped for
     * good (faulted, or a VM that stopped; such a peer's stop also fires its
     * channels). x0: channel + 1 to notify first (0: none, the deferred
     * notification); x1: channel + 1 whose interrupt to acknowledge first.
     */
    PN_SYS_WAIT = 1,
    PN_SYS_NOTIFY = 2,  /* x0: channel */
    PN_SYS_IRQ_ACK = 3, /* x0: channel */
    PN_SYS_PUTS = 4,    /* x0: address, x1: length (at most PN_PUTS_MAX) */
    PN_SYS_TIME = 5,    /* returns nanoseconds since boot */
    PN_SYS_FAULT = 6,   /* from the PD's own exception vector: x0: which vector */
    PN_SYS_FATAL = 7,   /* x0: address, x1: length of why; stops the PD */
    PN_SYS_PHASE = 8,   /* x0: measurement phase 0..15 for every core's counts */
};

#define PN_PUTS_MAX 1024

#endif
