/*
 * Cross-core notification. A notification to a PD on another core is left
 * in that PD's incoming word and its core's incoming mask; the sender's
 * per-target-core outbox then decides when the target core is interrupted
 * (one SGI for everything queued), by the channel's batching policy:
 * at once, when the sender stops running, or after K notifications or T
 * microseconds. A polling core is never interrupted: it watches its mask.
 */
#ifndef PINION_IPI_H
#define PINION_IPI_H

#include "kernel.h"

void ipi_post(struct core *c, struct pd *target, uint64_t bits,
              const struct pn_boot_channel *channel);
/* The sender stops running (waits, is preempted, faults): flush every dirty outbox. */
void ipi_flush_on_switch(struct core *c);
/* The core's timer fired: flush outboxes whose coalescing window closed. */
void ipi_timer_expired(struct core *c);
void ipi_flush(struct core *c, uint32_t target_core);
/* The EL2 timer for the earliest coalescing window or parked guest timer (c->guest_deadline). */
void ipi_rearm_timer(struct core *c);

#endif
