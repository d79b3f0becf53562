/*
 * Entries from a PD into the kernel (vectors.S calls these with the PD's
 * registers saved): system calls, faults, interrupts. Each ends by choosing
 * what runs next on the core.
 */
#include "arch.h"
#include "console.h"
#include "kernel.h"
#include "sysreg.h"

#define EC_WFX   0x01
#define EC_HVC64 0x16

void handle_lower_sync(void)
{
    struct core *c = this_core();
    struct pd *pd = c->current;
    uint64_t esr = read_sysreg(esr_el2);
    uint32_t ec = (uint32_t)(esr >> 26) & 0x3f;
    if (ec == EC_HVC64) {
        syscall_dispatch(c, pd, (uint32_t)(esr & 0xffff));
    } else if (ec == EC_WFX) {
        pd->ctx.elr += 4; /* a PD waits with the wait call; WFI and WFE do nothing */
    } else {
        fault_from_lower_el(c, pd, esr);
    }
    schedule(c);
}

void handle_lower_irq(void)
{
    struct core *c = this_core();
    irq_handle_pending(c);
    notify_take_incoming(c);
    schedule(c);
}

void handle_lower_serror(void)
{
    struct core *c = this_core();
    fault_stop_pd(c, c->current, "asynchronous external abort (SError)", read_sysreg(far_el2),
                  c->current->ctx.elr);
    schedule(c);
}
