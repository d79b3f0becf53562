/*
 * Host synchronisation primitives shared by the hosted backend, the stress
 * test and the micro-benchmark: a futex-backed wait on a 32-bit word, and
 * pinning a thread to a CPU.
 */
#ifndef PINION_HOSTSYNC_H
#define PINION_HOSTSYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Sleeps while *word == expected (returns at once otherwise, or spuriously). */
void pn_futex_wait(_Atomic uint32_t *word, uint32_t expected);
/* As pn_futex_wait, giving up after timeout_ms; returns false on timeout. */
bool pn_futex_wait_ms(_Atomic uint32_t *word, uint32_t expected, unsigned timeout_ms);
void pn_futex_wake_all(_Atomic uint32_t *word);

/*
 * A binary semaphore: the host stand-in for a PD's notification. Several
 * signals before a wait merge into one, exactly as a notification does.
 */
struct pn_host_signal {
    _Atomic uint32_t raised;
};

void pn_host_signal_raise(struct pn_host_signal *s);
void pn_host_signal_wait(struct pn_host_signal *s);
/* Returns false when nothing was raised within timeout_ms. */
bool pn_host_signal_wait_ms(struct pn_host_signal *s, unsigned timeout_ms);

/* Pins the calling thread to `cpu`; false when the host has no such CPU. */
bool pn_pin_to_cpu(int cpu);
int pn_online_cpus(void);

#endif
