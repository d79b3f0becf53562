/*
 * The hosted backend: a pinion system's components run as threads of one
 * host process, so their logic is tested without the emulator. Each
 * component instance is its program's shared object, loaded from a private
 * copy so that two instances of one program have separate globals, exactly
 * as two PDs do. Regions are host memory; notifications are futex wake-ups.
 *
 * A run ends when the system is quiescent: every PD waits and no
 * notification, interrupt or call is pending.
 */
#ifndef PINION_HOSTED_H
#define PINION_HOSTED_H

#include <pinion/counters.h>
#include <sysdesc.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct pn_hosted_options {
    const char *component_dir; /* where <program>.so files are */
    FILE *output;              /* debug output; stdout when NULL */
    unsigned timeout_ms;       /* a run not quiescent by then fails; 0: 60 s */
};

struct pn_hosted_stats {
    uint64_t entries;            /* init() and notified() calls */
    uint64_t notifications_sent; /* pn_notify and deferred ones */
    uint64_t notifications_deferred;
    uint64_t notifications_received; /* channels delivered to notified() */
    uint64_t wakeups;                /* times the PD slept and was woken */
    uint64_t irqs_delivered;
    uint64_t irq_acks;
    uint64_t ppcalls_made;
    uint64_t ppcalls_served;
    bool faulted;
    char fault[160];
};

struct pn_hosted_system;

/* Loads every component; NULL with a message in err on failure. */
struct pn_hosted_system *pn_hosted_create(const struct sd_system *sys,
                                          const struct pn_hosted_options *options, char *err,
                                          size_t err_len);
/*
 * Runs init() everywhere and then notifications until quiescent. Returns
 * true when the run became quiescent in time; false on timeout (err says
 * which PDs were still busy).
 */
bool pn_hosted_run(struct pn_hosted_system *hs, char *err, size_t err_len);
/*
 * Raises the device interrupt `irq_name` of PD `pd`, as a device would.
 * Level semantics: raised while unacknowledged, it is delivered again after
 * the ack. Call before pn_hosted_run or from a PD's thread.
 */
bool pn_hosted_raise_irq(struct pn_hosted_system *hs, const char *pd, const char *irq_name);
bool pn_hosted_stats(const struct pn_hosted_system *hs, const char *pd,
                     struct pn_hosted_stats *stats);
/* The PD's named counters (pn_counter), or NULL when its program keeps none. */
const struct pn_counter_table *pn_hosted_counters(const struct pn_hosted_system *hs,
                                                  const char *pd);
/* The host address of a region, so a test can look inside. */
void *pn_hosted_region(const struct pn_hosted_system *hs, const char *region, uint64_t *size);
void pn_hosted_destroy(struct pn_hosted_system *hs);

#endif
