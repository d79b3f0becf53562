/*
 * Compiled for aarch64 by check-ring-codegen: the transport must build
 * freestanding, and its signal handshake must be the stlr/ldar pairs the
 * ordering argument in ring.h relies on, with no fences and no calls.
 */
#include <pinion/blk_queue.h>
#include <pinion/net_queue.h>
#include <pinion/serial_queue.h>

bool codegen_producer_push_and_check(struct pn_net_filler *f, struct pn_net_desc d)
{
    return pn_net_give_active(f, d) == PN_RING_OK && pn_ring_require_signal(&f->active);
}

bool codegen_consumer_may_sleep(struct pn_net_drainer *d)
{
    pn_ring_request_signal(&d->active);
    if (!pn_ring_consumer_empty(&d->active)) {
        pn_ring_cancel_signal(&d->active);
        return false;
    }
    return true;
}

bool codegen_take(struct pn_net_drainer *d, struct pn_net_desc *out)
{
    return pn_net_take_active(d, out) == PN_RING_OK;
}

uint32_t codegen_serial(struct pn_ring_producer *p, const char *text, uint32_t len)
{
    enum pn_ring_status status;
    return pn_serial_write(p, text, len, &status);
}
