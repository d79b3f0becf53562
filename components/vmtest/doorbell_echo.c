/*
 * The native end of a driver VM test: each notification from the guest
 * (its doorbell) is answered by writing the guest's sequence number plus
 * one next to it in the shared region and notifying back (the guest's UIO
 * interrupt). Counts what it answered, so a test can compare it with what
 * the guest says it sent.
 */
#include <pinion/component.h>
#include <pinion/wiring.h>

static pn_channel guest;
static volatile uint32_t *shared;

void init(void)
{
    guest = pn_require_channel("guest");
    uint64_t size = 0;
    shared = pn_region("shared", &size);
    if (shared == 0 || size < 8) {
        pn_fatal("needs a region \"shared\" of at least 8 bytes");
    }
}

void notified(pn_channel ch)
{
    /* A guest that stopped (powered off) is told of by a notification too: no doorbell. */
    if (ch != guest || !pn_channel_peer_alive(guest)) {
        return;
    }
    shared[1] = shared[0] + 1;
    (*pn_counter("echoes"))++;
    pn_notify(guest);
}
