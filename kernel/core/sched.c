/*
 * Per-core fixed-priority preemptive scheduling. A core's PDs sit in slots
 * ordered by priority (highest first, then description order), so the
 * highest-priority runnable PD is the lowest set bit of the ready mask. A
 * PD keeps its core for ever; a PD of equal priority does not preempt the
 * one running.
 */
#include "arch.h"
#include "console.h"
#include "ipi.h"
#include "kernel.h"
#include "sysreg.h"
#include "vm.h"

/* Insertion by priority, stable for equal priorities. */
static void add_slot(struct core *c, struct pd *pd)
{
    uint32_t at = c->n_slots;
    while (at > 0 && c->slots[at - 1]->priority < pd->priority) {
        c->slots[at] = c->slots[at - 1];
        at--;
    }
    c->slots[at] = pd;
    c->n_slots++;
}

void sched_init_core(struct core *c)
{
    c->n_slots = 0;
    for (uint32_t i = 0; i < n_pds; i++) {
        if (pds[i].core == c->index && pds[i].kind == PD_NATIVE) {
            add_slot(c, &pds[i]);
        }
    }
    for (uint32_t i = 0; i < n_vcpu_pds; i++) {
        if (vcpu_pds[i].core == c->index) {
            add_slot(c, &vcpu_pds[i]);
        }
    }
    for (uint32_t s = 0; s < c->n_slots; s++) {
        c->slots[s]->slot = s;
        c->slots[s]->higher_slots = 0;
        for (uint32_t h = 0; h < s && c->slots[h]->priority > c->slots[s]->priority; h++) {
            c->slots[s]->higher_slots |= 1ull << h;
        }
        if (c->slots[s]->state == PD_RUNNABLE) {
            c->ready |= 1ull << s;
        }
        if (c->slots[s]->boot->flags & PN_PD_POLLING) {
            c->polling = true;
        }
    }
    c->marked_owner = PN_OWNER_KERNEL;
}

void sched_make_runnable(struct core *c, struct pd *pd)
{
    c->ready |= 1ull << pd->slot;
}

void sched_block(struct core *c, struct pd *pd)
{
    c->ready &= ~(1ull << pd->slot);
}

static void save_el1(struct pd *pd)
{
    pd->el1.vbar = read_sysreg(vbar_el1);
    pd->el1.tpidr = read_sysreg(tpidr_el1);
    pd->el1.sp_el0 = read_sysreg(sp_el0);
}

/* No barrier: the exception return into the PD synchronises the context. */
static void load_el1(const struct pd *pd)
{
    write_sysreg(vbar_el1, pd->el1.vbar);
    write_sysreg(tpidr_el1, pd->el1.tpidr);
    write_sysreg(sp_el0, pd->el1.sp_el0);
    write_sysreg(vttbr_el2, pd->vttbr);
}

/* Out of line: the native-to-native switch is the one to keep short. */
static __attribute__((noinline)) void switch_with_vcpu(struct core *c, struct pd *prev,
                                                       struct pd *pd)
{
    if (prev) {
        if (prev->kind == PD_VCPU) {
            vcpu_save_el1(prev->vcpu);
        } else {
            save_el1(prev);
        }
    }
    if (pd->kind == PD_VCPU) {
        vm_switch_in(c, prev, pd);
        vm_enter(c, pd);
    } else {
        vm_switch_to_native();
        load_el1(pd);
    }
}

static inline __attribute__((always_inline)) void switch_to(struct core *c, struct pd *pd)
{
    if (c->loaded != pd) {
        struct pd *prev = c->loaded;
        if (pd->kind == PD_NATIVE && (prev == 0 || prev->kind == PD_NATIVE)) {
            if (prev) {
                save_el1(prev);
            }
            load_el1(pd);
        } else {
            switch_with_vcpu(c, prev, pd);
        }
        c->loaded = pd;
        count(c, EV_switches);
    }
    if (c->current && c->current != pd && (c->ready & (1ull << c->current->slot))) {
        count(c, EV_preemptions);
    }
    c->current = pd;
    c->ctx = &pd->ctx;
    if (pd->state == PD_WOKEN) {
        pd->state = PD_RUNNABLE;
    }
    if (c->marked_owner != pd->owner) {
        mark_switch(pd->owner);
        c->marked_owner = pd->owner;
    }
}

static struct pd *pick(struct core *c)
{
    struct pd *cur = c->current;
    /* The running PD goes on unless a PD of higher priority became ready. */
    if (cur && (c->ready & (1ull << cur->slot)) && !(c->ready & cur->higher_slots)) {
        return cur;
    }
    return c->ready ? c->slots[__builtin_ctzll(c->ready)] : 0;
}

/*
 * Waits, interrupts masked, until an interrupt or (polling) a notification
 * arrives. The core stops counting as idle before it takes any work, so
 * another core judging whether the run is over never sees it idle with
 * work in hand.
 */
static void idle(struct core *c)
{
    if (c->marked_owner != PN_OWNER_KERNEL) {
        mark_switch(PN_OWNER_KERNEL);
        c->marked_owner = PN_OWNER_KERNEL;
    }
    c->current = 0;
    count(c, EV_idle_entries);
    while (c->ready == 0) {
        run_enter_idle(c);
        if (c->polling) {
            while (atomic_load_explicit(&c->incoming, memory_order_relaxed) == 0 &&
                   !(read_sysreg(isr_el1) & (1u << 7))) {
                cpu_relax();
            }
        } else {
            wfi();
        }
        run_leave_idle(c);
        irq_handle_pending(c);
        notify_take_incoming(c);
    }
}

void schedule(struct core *c)
{
    for (;;) {
        struct pd *next = pick(c);
        if (c->outbox_dirty && c->current && next != c->current) {
            ipi_flush_on_switch(c);
        }
        if (next) {
            switch_to(c, next);
            return;
        }
        if (c->outbox_dirty) {
            ipi_flush_on_switch(c);
        }
        idle(c);
    }
}
