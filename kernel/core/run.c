/*
 * The end of a run: when every core is idle with nothing pending (systems
 * that ask for it), or when the operator types 'q'. The core that ends the
 * run stops the others, prints every core's event counters and every PD's
 * own counters as JSON lines, and powers the machine off.
 */
#include "arch.h"
#include "console.h"
#include "kernel.h"
#include "sysreg.h"
#include "vm.h"

#include <pinion/counters.h>

static atomic_flag run_lock = ATOMIC_FLAG_INIT;
static _Atomic bool halting;

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&run_lock, memory_order_acquire)) {
        cpu_relax();
    }
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&run_lock, memory_order_release);
}

static bool quiescent(void)
{
    for (uint32_t i = 0; i < n_cores; i++) {
        const struct core *c = &cores[i];
        if (!c->online || !c->idle || c->outbox_dirty || c->guest_timer_wait ||
            atomic_load_explicit(&c->incoming, memory_order_acquire) != 0) {
            return false;
        }
    }
    return true;
}

void run_enter_idle(struct core *c)
{
    if (!(bootinfo->flags & PN_BOOT_END_WHEN_IDLE)) {
        return;
    }
    lock();
    c->idle = true;
    bool done = quiescent();
    unlock();
    if (done) {
        run_halt(c, "every core idle, nothing pending");
    }
}

void run_leave_idle(struct core *c)
{
    if (!(bootinfo->flags & PN_BOOT_END_WHEN_IDLE)) {
        return;
    }
    lock();
    c->idle = false;
    unlock();
}

_Noreturn void run_halt_requested(struct core *c)
{
    atomic_store_explicit(&c->halted, true, memory_order_release);
    for (;;) {
        wfi();
    }
}

static const char *state_name(enum pd_state state)
{
    switch (state) {
    case PD_RUNNABLE:
    case PD_WOKEN:
        return "runnable";
    case PD_WAITING:
        return "waiting";
    case PD_OFF:
        return "off";
    default:
        return "faulted";
    }
}

static void print_core_counters(const struct core *c)
{
    static const char *const names[] = {
#define KERNEL_EVENT_NAME(name) #name,
        KERNEL_EVENTS(KERNEL_EVENT_NAME)
#undef KERNEL_EVENT_NAME
    };
    for (uint32_t p = 0; p < PN_PHASE_COUNT; p++) {
        const struct core_counters *k = &c->counters[p];
        bool any = false;
        for (int e = 0; e < EV_COUNT; e++) {
            any |= k->events[e] != 0;
        }
        if (!any && p != 0) {
            continue;
        }
        kprintf("pinion-counters {\"core\": %u, \"phase\": %u", c->index, p);
        for (int e = 0; e < EV_COUNT; e++) {
            kprintf(", \"%s\": %lu", names[e], k->events[e]);
        }
        kprintf("}\n");
    }
}

/* A counter name from PD memory, printed only if it is a plain identifier. */
static bool plain_name(const char *name)
{
    for (int i = 0; i < PN_NAME_MAX; i++) {
        char ch = name[i];
        if (ch == '\0') {
            return i > 0;
        }
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.')) {
            return false;
        }
    }
    return false;
}

static void print_pd(const struct pd *pd)
{
    kprintf("pinion-pd {\"pd\": \"%s\", \"owner\": %u, \"core\": %u, \"state\": \"%s\", "
            "\"counters\": {",
            pd->name, pd->owner, pd->core, state_name(pd->state));
    const struct pn_counter_table *t =
        (const struct pn_counter_table *)(uintptr_t)pd->boot->counters_pa;
    if (t && t->count <= PN_MAX_COUNTERS) {
        const char *sep = "";
        for (uint32_t i = 0; i < t->count; i++) {
            if (plain_name(t->slots[i].name)) {
                kprintf("%s\"%s\": %lu", sep, t->slots[i].name, t->slots[i].value);
                sep = ", ";
            }
        }
    }
    kprintf("}}\n");
}

_Noreturn void run_halt(struct core *c, const char *why)
{
    if (atomic_exchange(&halting, true)) {
        run_halt_requested(c);
    }
    for (uint32_t i = 0; i < n_cores; i++) {
        if (i != c->index && cores[i].online) {
            gic_send_sgi(SGI_HALT, i);
        }
    }
    uint64_t deadline = timer_now() + timer_ticks_from_us(2000000);
    for (uint32_t i = 0; i < n_cores; i++) {
        while (i != c->index && cores[i].online &&
               !atomic_load_explicit(&cores[i].halted, memory_order_acquire) &&
               timer_now() < deadline) {
            cpu_relax();
        }
    }
    mark_switch(PN_OWNER_KERNEL);
    kprintf("pinion: run ended: %s\n", why);
    for (uint32_t i = 0; i < n_cores; i++) {
        print_core_counters(&cores[i]);
    }
    for (uint32_t i = 0; i < n_pds; i++) {
        if (pds[i].kind == PD_NATIVE) {
            print_pd(&pds[i]); /* a VM reports itself: vm_report */
        }
    }
    vm_report();
    kprintf("pinion: stage-2 tables used %lu KiB\n", stage2_pool_used() / 1024);
    kprintf("pinion: power off\n");
    psci_system_off();
}
