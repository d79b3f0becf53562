/*
 * Interrupts: device interrupts go, as notifications, to the PD that owns
 * them, on its core; SGIs carry cross-core notifications and the end of a
 * run; the EL2 timer closes coalescing windows; the console's receive
 * interrupt lets the operator end a run by typing 'q'.
 */
#include "arch.h"
#include "console.h"
#include "ipi.h"
#include "kernel.h"
#include "vm.h"

#define MAX_INTID 1020

struct irq_owner {
    uint16_t pd;
    uint8_t channel;
    bool used;
};

static struct irq_owner owners[MAX_INTID];

void irq_setup_devices(void)
{
    for (uint32_t i = 0; i < bootinfo->n_irqs; i++) {
        const struct pn_boot_irq *irq = &bootinfo->irqs[i];
        struct pd *pd = &pds[irq->pd];
        owners[irq->intid] = (struct irq_owner){(uint16_t)irq->pd, (uint8_t)irq->channel, true};
        pd->irq_channels |= 1ull << irq->channel;
        pd->irq_intid[irq->channel] = irq->intid;
        gic_route_spi(irq->intid, pd->core, irq->edge != 0);
    }
}

/*
 * What the operator (or experiments/run) types: a digit starts that
 * measurement phase for every core, 'q' ends the run.
 */
static void console_input(struct core *c)
{
    int ch;
    while ((ch = console_getc()) >= 0) {
        if (ch == 'q') {
            run_halt(c, "'q' typed at the console");
        } else if (ch >= '0' && ch <= '9') {
            counters_set_phase((uint32_t)(ch - '0'));
            mark_phase((uint32_t)(ch - '0'));
            kprintf("pinion: phase %c\n", ch);
        }
    }
}

static void device_irq(struct core *c, uint32_t intid)
{
    const struct irq_owner *owner = &owners[intid];
    struct pd *pd = &pds[owner->pd];
    if (!owner->used || pd->state == PD_FAULTED || pd->core != c->index) {
        gic_deactivate(intid);
        return;
    }
    count(c, EV_device_irqs);
    pd->irq_active |= 1ull << owner->channel;
    notify_deliver(c, pd, 1ull << owner->channel);
}

void irq_handle_pending(struct core *c)
{
    for (;;) {
        uint32_t intid = gic_acknowledge();
        if (intid >= INTID_SPURIOUS) {
            return;
        }
        gic_priority_drop(intid);
        switch (intid) {
        case SGI_NOTIFY:
            gic_deactivate(intid);
            count(c, EV_sgi_received);
            notify_take_incoming(c);
            break;
        case SGI_HALT:
            gic_deactivate(intid);
            run_halt_requested(c);
            break;
        case TIMER_INTID:
            gic_deactivate(intid);
            count(c, EV_timer_irqs);
            ipi_timer_expired(c);
            vm_parked_timers_expired(c);
            break;
        case PN_GUEST_VTIMER_INTID:
            if (!vm_timer_irq(c)) {
                gic_deactivate(intid); /* else the guest's EOI deactivates it */
            }
            break;
        case GIC_MAINTENANCE_INTID:
            gic_deactivate(intid);
            vm_maintenance_irq(c);
            break;
        case UART_INTID:
            gic_deactivate(intid);
            console_input(c);
            break;
        default:
            if (intid >= 32 && intid < MAX_INTID) {
                if (!vm_device_irq(c, intid)) {
                    device_irq(c, intid); /* deactivated when its PD acknowledges */
                }
            } else {
                gic_deactivate(intid);
            }
            break;
        }
    }
}

void irq_ack(struct core *c, struct pd *pd, uint32_t channel)
{
    uint64_t bit = channel < PN_CONFIG_MAX_CHANNELS ? 1ull << channel : 0;
    if (!(pd->irq_channels & bit)) {
        fault_stop_pd(c, pd, "interrupt acknowledgement on a channel that is not an interrupt",
                      channel, pd->ctx.elr);
        return;
    }
    count(c, EV_irq_acks);
    if (pd->irq_active & bit) {
        pd->irq_active &= ~bit;
        gic_deactivate(pd->irq_intid[channel]);
    }
}
