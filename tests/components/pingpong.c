/*
 * Test component: bounces a notification with its peer for `rounds` rounds.
 * Two PDs run this one program, so their globals must be separate; every
 * other reply goes out as a deferred notification.
 */
#include <pinion/component.h>
#include <pinion/wiring.h>

static pn_channel peer;
static uint64_t rounds;
static uint64_t *seen;

void init(void)
{
    peer = pn_require_channel("peer");
    rounds = pn_require_param_u64("rounds");
    seen = pn_counter("seen");
    if (pn_param_u64_or("starts", 0)) {
        pn_notify(peer);
    }
}

void notified(pn_channel ch)
{
    if (ch != peer) {
        pn_fatal("notified on a channel that is not the peer");
    }
    ++*seen;
    if (*seen < rounds) {
        if (*seen % 2) {
            pn_deferred_notify(peer);
        } else {
            pn_notify(peer);
        }
    } else if (*seen == rounds) {
        pn_dbg_puts("done\n");
    }
}
