/*
 * The kernel's event counters: kept per core and per measurement phase,
 * printed at the end of a run, so that every event the research question
 * cares about (notifications on one core and across cores, outbox flushes,
 * SGIs sent and received, wake-ups, switches) is counted where it happens.
 */
#ifndef PINION_KERNEL_COUNTERS_H
#define PINION_KERNEL_COUNTERS_H

#include <stdint.h>

#define PN_PHASE_COUNT 16

#define KERNEL_EVENTS(X)                                                                           \
    X(waits)                                                                                       \
    X(notify_same_core)                                                                            \
    X(notify_cross_core)                                                                           \
    X(notify_dropped)                                                                              \
    X(outbox_flushes)                                                                              \
    X(sgi_sent)                                                                                    \
    X(sgi_received)                                                                                \
    X(flush_to_polling_core)                                                                       \
    X(incoming_taken)                                                                              \
    X(wakeups)                                                                                     \
    X(switches)                                                                                    \
    X(preemptions)                                                                                 \
    X(idle_entries)                                                                                \
    X(device_irqs)                                                                                 \
    X(irq_acks)                                                                                    \
    X(timer_irqs)                                                                                  \
    X(faults)                                                                                      \
    X(vm_exits)                                                                                    \
    X(virqs)

#define KERNEL_EVENT_ENUM(name) EV_##name,
enum kernel_event { KERNEL_EVENTS(KERNEL_EVENT_ENUM) EV_COUNT };
#undef KERNEL_EVENT_ENUM

struct core_counters {
    uint64_t events[EV_COUNT];
};

#endif
