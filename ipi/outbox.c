/* Per-core outboxes and the batching policies (see ipi.h). */
#include "ipi.h"

#include "arch.h"

void ipi_rearm_timer(struct core *c)
{
    uint64_t earliest = c->guest_deadline;
    for (uint32_t t = 0; t < n_cores; t++) {
        if (c->outbox[t].armed && c->outbox[t].deadline < earliest) {
            earliest = c->outbox[t].deadline;
        }
    }
    if (earliest == UINT64_MAX) {
        timer_disarm();
    } else {
        timer_arm_at(earliest);
    }
}

void ipi_flush(struct core *c, uint32_t target_core)
{
    struct outbox *box = &c->outbox[target_core];
    bool was_armed = box->armed;
    box->pending = 0;
    box->armed = false;
    c->outbox_dirty &= ~(1ull << target_core);
    count(c, EV_outbox_flushes);
    if (cores[target_core].polling) {
        count(c, EV_flush_to_polling_core);
    } else {
        gic_send_sgi(SGI_NOTIFY, target_core);
        count(c, EV_sgi_sent);
    }
    if (was_armed) {
        ipi_rearm_timer(c);
    }
}

void ipi_post(struct core *c, struct pd *target, uint64_t bits,
              const struct pn_boot_channel *channel)
{
    struct core *dst = &cores[target->core];
    atomic_fetch_or_explicit(&target->incoming, bits, memory_order_relaxed);
    /* Release: whoever sees the slot bit sees the PD's bits. */
    atomic_fetch_or_explicit(&dst->incoming, 1ull << target->slot, memory_order_release);
    struct outbox *box = &c->outbox[target->core];
    switch (channel->policy) {
    case PN_BATCH_END_OF_HANDLER:
        box->pending++;
        c->outbox_dirty |= 1ull << target->core;
        break;
    case PN_BATCH_COALESCE:
        box->pending++;
        c->outbox_dirty |= 1ull << target->core;
        if (box->pending >= channel->coalesce_count) {
            ipi_flush(c, target->core);
        } else if (!box->armed) {
            box->armed = true;
            box->deadline = timer_now() + timer_ticks_from_us(channel->coalesce_window_us);
            ipi_rearm_timer(c);
        }
        break;
    default:
        ipi_flush(c, target->core);
        break;
    }
}

void ipi_flush_on_switch(struct core *c)
{
    uint64_t dirty = c->outbox_dirty;
    while (dirty) {
        uint32_t t = (uint32_t)__builtin_ctzll(dirty);
        dirty &= dirty - 1;
        /* A coalescing window keeps running across the sender's switches. */
        if (!c->outbox[t].armed) {
            ipi_flush(c, t);
        }
    }
}

void ipi_timer_expired(struct core *c)
{
    uint64_t now = timer_now();
    for (uint32_t t = 0; t < n_cores; t++) {
        if (c->outbox[t].armed && c->outbox[t].deadline <= now) {
            ipi_flush(c, t);
        }
    }
    ipi_rearm_timer(c);
}
