/*
 * The component API, modelled on seL4 Microkit so that component code and
 * placements carry over to seL4 systems.
 *
 * A component defines the entry points below and runs one notification at a
 * time: init() once, then notified(ch) for each channel that fired. It never
 * blocks; the runtime (the pinion kernel on target, threads on the host)
 * waits for it.
 */
#ifndef PINION_COMPONENT_H
#define PINION_COMPONENT_H

#include <pinion/config.h>
#include <stdbool.h>
#include <stdint.h>

typedef uint32_t pn_channel;

/* A synchronous call's message: a label and how many message registers. */
typedef struct {
    uint64_t label;
    uint32_t count;
} pn_msginfo;

#define PN_MESSAGE_REGISTERS 4

/* Entry points the component defines. protected() is optional. */
void init(void);
void notified(pn_channel ch);
pn_msginfo protected(pn_channel ch, pn_msginfo msginfo);

/* Signals the PD at the other end of `ch`. */
void pn_notify(pn_channel ch);
/*
 * Signals the other end once the current entry point returns; one pending at
 * a time (a second call replaces the first, as in Microkit). Lets the kernel
 * fold the signal into the return to the scheduler.
 */
void pn_deferred_notify(pn_channel ch);
/*
 * Whether the PD (or VM) at the other end of `ch` still runs. Once it has
 * stopped (faulted, pn_fatal, a VM that crashed or powered off) it never
 * runs again and this stays false. When it stops, every peer is notified
 * on its channel to it, and this says so from that notification on (on
 * the kernel it comes with the wait that delivers it: no system call), so
 * a PD waiting for answers wakes and can fail over. Not in Microkit.
 */
bool pn_channel_peer_alive(pn_channel ch);
/* Re-enables delivery of the device interrupt behind `ch`. */
void pn_irq_ack(pn_channel ch);
/* Calls the peer's protected() and returns its reply (synchronous). */
pn_msginfo pn_ppcall(pn_channel ch, pn_msginfo msginfo);
void pn_mr_set(unsigned index, uint64_t value);
uint64_t pn_mr_get(unsigned index);

/*
 * Starts measurement phase `phase` (0..15) for every core's instruction and
 * event counts, so a benchmark can bracket what it measures (0: boot and
 * set-up). No effect in the hosted backend.
 */
void pn_phase(uint32_t phase);
/* Nanoseconds since boot: for timeouts, never for measurements (see DESIGN.md). */
uint64_t pn_time_ns(void);

/* Debug output, prefixed with the PD's name by the runtime. */
void pn_dbg_puts(const char *s);
/*
 * Stops this PD after printing why; other PDs run on. For configuration a
 * component cannot work without.
 */
_Noreturn void pn_fatal(const char *why);

/*
 * A named event counter this PD keeps in its own memory (at most
 * PN_MAX_COUNTERS); the runtime reads them all out at the end of a run.
 * Asking twice for one name gives the same counter.
 */
#define PN_MAX_COUNTERS 16
uint64_t *pn_counter(const char *name);

/* This PD's generated configuration. */
const struct pn_config *pn_config(void);

/* Convenience lookups over pn_config(); NULL or false when absent. */
void *pn_region(const char *name, uint64_t *size);
/* A region's physical address (what a device sees), mapped or not; false when absent. */
bool pn_region_paddr(const char *name, uint64_t *paddr, uint64_t *size);
bool pn_channel_named(const char *name, pn_channel *ch);
const char *pn_param(const char *key);

#endif
