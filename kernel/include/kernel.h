/*
 * The kernel's view of the system: protection domains, cores, and the
 * functions the parts of the kernel call each other through.
 */
#ifndef PINION_KERNEL_H
#define PINION_KERNEL_H

#include <pinion/bootinfo.h>
#include <pinion/markers.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asm.h"
#include "counters.h"

/* A PD's registers while it is not running; offsets are used by vectors.S. */
struct pd_context {
    uint64_t x[31];
    uint64_t sp_el1;
    uint64_t elr;
    uint64_t spsr;
};

_Static_assert(offsetof(struct pd_context, sp_el1) == CONTEXT_SP_EL1, "vectors.S layout");
_Static_assert(offsetof(struct pd_context, elr) == CONTEXT_ELR, "vectors.S layout");
_Static_assert(offsetof(struct pd_context, spsr) == CONTEXT_SPSR, "vectors.S layout");

enum pd_state {
    PD_RUNNABLE,
    PD_WOKEN,   /* runnable, and its wait call returns the bits in ctx.x[0] */
    PD_WAITING, /* in the wait call (a vCPU: in WFI), for notifications (interrupts) */
    PD_FAULTED, /* stopped; notifications to it are dropped */
    PD_OFF,     /* a vCPU not started, or turned off (PSCI) */
};

enum pd_kind {
    PD_NATIVE, /* a component: scheduled, runs at EL1 with stage 1 off */
    PD_VM,     /* a virtual machine: holds translation and channels, never scheduled */
    PD_VCPU,   /* a vCPU of a VM: scheduled like a native PD */
};

struct vm;
struct vcpu;

#define PD_NO_CORE 0xffffffffu /* a VM's own PD: only its vCPUs run */

/*
 * EL1 registers a PD keeps state in, swapped when the core switches PDs.
 * ELR, SPSR, ESR and FAR of EL1 are not: a native PD takes an EL1
 * exception only to report its own fault, and its vector passes them on at
 * once (see components/target/crt0.S).
 */
struct pd_el1_state {
    uint64_t vbar;
    uint64_t tpidr;
    uint64_t sp_el0;
};

/* A channel end, resolved at boot so that a notification is a few loads. */
struct pd_channel {
    struct pd *target; /* NULL when the channel id is not connected */
    uint64_t bit;      /* the channel's bit at the target */
    const struct pn_boot_channel *boot;
};

struct pd {
    struct pd_context ctx;
    enum pd_kind kind;
    struct vm *vm;     /* PD_VM, PD_VCPU */
    struct vcpu *vcpu; /* PD_VCPU */
    struct pd_el1_state el1;
    uint64_t vttbr;
    uint64_t *stage2_root;
    uint64_t hcr;
    uint64_t sctlr_el1;
    const struct pn_boot_pd *boot;
    const char *name;
    uint32_t index;
    uint32_t owner; /* accounting id */
    uint32_t core;
    uint32_t slot; /* position on its core, by priority */
    uint32_t priority;
    uint64_t higher_slots; /* slots on its core whose PDs have a higher priority */
    enum pd_state state;
    /*
     * Its channels whose peer has stopped for good, a bit per channel id:
     * set by the core that stops the peer, before the notification that
     * tells of it; returned by every wait in x1.
     */
    _Atomic uint64_t peers_stopped;
    uint64_t pending;          /* delivered, not yet returned by wait; own core only */
    _Atomic uint64_t incoming; /* set by other cores, taken by its own */
    int32_t deferred_notify;   /* channel to signal at the next wait, or -1 */
    uint64_t irq_channels;     /* channel ids that are device interrupts */
    uint32_t irq_intid[PN_CONFIG_MAX_CHANNELS];
    struct pd_channel channels[PN_CONFIG_MAX_CHANNELS];
    uint64_t irq_active; /* delivered, awaiting the PD's ack */
    bool at_line_start;  /* of its debug output */
};

struct outbox {
    uint32_t pending;  /* notifications queued for that core since the last flush */
    bool armed;        /* a coalescing window is running */
    uint64_t deadline; /* counter value when the window closes */
};

struct core {
    struct pd_context *ctx;  /* offset 0: the context vectors.S saves to and restores from */
    uint64_t stack_top;      /* offset 8: kernel_exit starts every return from here */
    struct pd *current;      /* NULL while idle */
    struct pd *loaded;       /* whose EL1 state and translation are in the registers */
    struct vcpu *guest;      /* the vCPU whose hardware state (FP, GIC, timer) is loaded */
    uint64_t guest_deadline; /* earliest parked guest timer on this core, or UINT64_MAX */
    bool guest_timer_wait;   /* a vCPU here waits in WFI with its timer armed: not idle */
    uint32_t index;
    uint32_t marked_owner; /* the owner the last switch marker named */
    bool online;
    bool polling; /* its one PD polls: never sleep, take no SGIs */
    uint32_t n_slots;
    struct pd *slots[64];      /* its PDs and vCPUs, highest priority first */
    uint64_t ready;            /* bit per slot: runnable */
    _Atomic uint64_t incoming; /* bit per slot: other cores left notifications */
    _Atomic bool halt_requested;
    struct outbox outbox[PN_BOOT_MAX_CORES];
    uint64_t outbox_dirty; /* bit per target core with queued notifications */
    uint64_t *events;      /* counters of the current phase: &counters[phase].events */
    bool idle;             /* waiting for work; guarded by the run lock (run.c) */
    _Atomic bool halted;
    struct core_counters counters[PN_PHASE_COUNT];
};

_Static_assert(offsetof(struct core, stack_top) == CORE_STACK_TOP, "vectors.S layout");

extern struct pd pds[PN_BOOT_MAX_PDS];
extern struct pd vcpu_pds[PN_BOOT_MAX_VCPUS]; /* the schedulable side of vCPUs */
extern uint32_t n_vcpu_pds;
extern struct core cores[PN_BOOT_MAX_CORES];
extern const struct pn_bootinfo *bootinfo;
extern uint32_t n_pds;
extern uint32_t n_cores;
extern _Atomic uint32_t phase; /* the measurement phase every core counts into */

static inline struct core *this_core(void)
{
    struct core *c;
    __asm__ volatile("mrs %0, tpidr_el2" : "=r"(c));
    return c;
}

static inline void count(struct core *c, enum kernel_event event)
{
    c->events[event]++;
}

/* Starts measurement phase `p` for every core's event counts. */
void counters_set_phase(uint32_t p);

/* sched.c */
void sched_init_core(struct core *c);
void sched_make_runnable(struct core *c, struct pd *pd);
void sched_block(struct core *c, struct pd *pd);
/* Chooses what runs next on this core and loads it; idles until something can. */
void schedule(struct core *c);

/* notify.c */
void notify_deliver(struct core *c, struct pd *target, uint64_t bits);
void notify_send(struct core *c, struct pd *sender, uint32_t channel);
void notify_take_incoming(struct core *c);
void notify_resolve_channels(struct pd *pd);
/* `pd` has just stopped for good: tells the PD at every channel's other end, and wakes it. */
void notify_peers_of_stop(struct core *c, struct pd *pd);

/* syscall.c, fault.c */
void syscall_dispatch(struct core *c, struct pd *pd, uint32_t number);
void fault_stop_pd(struct core *c, struct pd *pd, const char *what, uint64_t address, uint64_t pc);
void fault_from_lower_el(struct core *c, struct pd *pd, uint64_t esr);
void fault_from_pd_vector(struct core *c, struct pd *pd, uint64_t vector);

/* irq.c */
void irq_setup_devices(void);
void irq_handle_pending(struct core *c);
void irq_ack(struct core *c, struct pd *pd, uint32_t channel);

/* run.c: the end of a run */
void run_enter_idle(struct core *c);
void run_leave_idle(struct core *c);
_Noreturn void run_halt(struct core *c, const char *why);
_Noreturn void run_halt_requested(struct core *c);

/* markers.S */
void mark_switch(uint32_t owner);
void mark_phase(uint32_t phase);

/* vectors.S */
_Noreturn void kernel_exit(void);

_Noreturn void panic(const char *why);

#endif
