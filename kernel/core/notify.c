/*
 * Notifications: to a PD on this core, a scheduler decision; to another
 * core, through the outboxes of ipi/.
 */
#include "console.h"
#include "ipi.h"
#include "kernel.h"
#include "vm.h"

/* To a native PD (a vCPU takes its notifications as interrupts: vm_take_incoming). */
void notify_deliver(struct core *c, struct pd *target, uint64_t bits)
{
    switch (target->state) {
    case PD_WAITING:
        target->ctx.x[0] = target->pending | bits;
        /* Relaxed: a stop's bits are set before its notification, which brought us here. */
        target->ctx.x[1] = atomic_load_explicit(&target->peers_stopped, memory_order_relaxed);
        target->pending = 0;
        target->state = PD_WOKEN;
        sched_make_runnable(c, target);
        count(c, EV_wakeups);
        break;
    case PD_WOKEN:
        target->ctx.x[0] |= bits;
        target->ctx.x[1] = atomic_load_explicit(&target->peers_stopped, memory_order_relaxed);
        break;
    case PD_RUNNABLE:
        target->pending |= bits;
        break;
    case PD_FAULTED:
    case PD_OFF:
        count(c, EV_notify_dropped);
        break;
    }
}

void notify_resolve_channels(struct pd *pd)
{
    for (uint32_t id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
        const struct pn_boot_channel *ch = &pd->boot->channels[id];
        if (ch->target_pd != PN_BOOT_NO_PD) {
            pd->channels[id] = (struct pd_channel){&pds[ch->target_pd], 1ull << ch->target_id, ch};
        }
    }
}

void notify_send(struct core *c, struct pd *sender, uint32_t channel)
{
    const struct pd_channel *ch = channel < PN_CONFIG_MAX_CHANNELS ? &sender->channels[channel] : 0;
    if (ch == 0 || ch->target == 0) {
        fault_stop_pd(c, sender, "notify on a channel that is not connected", channel,
                      sender->ctx.elr);
        return;
    }
    struct pd *target = ch->target;
    if (target->state == PD_FAULTED) {
        count(c, EV_notify_dropped);
    } else if (target->core == c->index) {
        count(c, EV_notify_same_core);
        notify_deliver(c, target, ch->bit);
    } else if (target->kind == PD_VM) { /* on no core (PD_NO_CORE): it has vCPUs instead */
        vm_notify(c, target->vm, ch);
    } else {
        count(c, EV_notify_cross_core);
        ipi_post(c, target, ch->bit, ch->boot);
    }
}

/*
 * Each peer learns of the stop from its next wait (x1), and is woken for it
 * by a notification on its channel to `pd`. The bit is set before the
 * notification goes out (ipi_post publishes with release, the target's core
 * takes it with acquire), so the wait that the notification ends already
 * returns it, whichever core the stop happened on.
 */
void notify_peers_of_stop(struct core *c, struct pd *pd)
{
    for (uint32_t id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
        const struct pd_channel *ch = &pd->channels[id];
        if (ch->target != 0) {
            atomic_fetch_or_explicit(&ch->target->peers_stopped, ch->bit, memory_order_relaxed);
            notify_send(c, pd, id);
        }
    }
}

void notify_take_incoming(struct core *c)
{
    if (atomic_load_explicit(&c->incoming, memory_order_relaxed) == 0) {
        return;
    }
    uint64_t slots = atomic_exchange_explicit(&c->incoming, 0, memory_order_acquire);
    while (slots) {
        struct pd *pd = c->slots[__builtin_ctzll(slots)];
        slots &= slots - 1;
        uint64_t bits = atomic_exchange_explicit(&pd->incoming, 0, memory_order_acquire);
        if (pd->kind == PD_VCPU) { /* also its interrupts from other vCPUs, a power-on, a stop */
            count(c, EV_incoming_taken);
            vm_take_incoming(c, pd, bits);
        } else if (bits) {
            count(c, EV_incoming_taken);
            notify_deliver(c, pd, bits);
        }
    }
}
