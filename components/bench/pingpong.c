/*
 * Micro-benchmark: a notification bounced between two PDs for `rounds`
 * rounds. The PD with `starts` set begins, brackets the rounds with
 * measurement phase 1 and stops after the last reply. With `deferred` set
 * replies go out as deferred notifications, folded into the next wait.
 */
#include <pinion/component.h>
#include <pinion/wiring.h>

static pn_channel peer;
static uint64_t rounds, seen;
static bool starts, deferred;

void init(void)
{
    peer = pn_require_channel("peer");
    rounds = pn_require_param_u64("rounds");
    starts = pn_param_u64_or("starts", 0) != 0;
    deferred = pn_param_u64_or("deferred", 0) != 0;
    if (starts) {
        pn_phase(1);
        pn_notify(peer);
    }
}

void notified(pn_channel ch)
{
    if (ch != peer) {
        return;
    }
    seen++;
    *pn_counter("notifications") = seen;
    if (starts && seen == rounds) {
        pn_phase(2);
        pn_dbg_puts("ping-pong done\n");
        return;
    }
    if (deferred) {
        pn_deferred_notify(peer);
    } else {
        pn_notify(peer);
    }
}
