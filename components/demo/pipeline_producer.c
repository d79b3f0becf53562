/*
 * Pipeline demo, producer: sends `items` items round-robin over `consumers`
 * consumers into its "out" ring and, when `bad_every` is set, an item for a
 * consumer that does not exist every that many items, which the
 * multiplexer must drop.
 */
#include "pipeline_item.h"

#include <pinion/component.h>
#include <pinion/ring.h>
#include <pinion/wiring.h>

static struct pn_ring_producer out;
static pn_channel out_ch;
static uint64_t items, consumers, bad_every;
static uint64_t next;
static uint64_t *sent, *bad_sent;

static struct pipeline_item item_at(uint64_t i)
{
    if (bad_every && i % bad_every == bad_every - 1) {
        return (struct pipeline_item){.consumer = (uint32_t)consumers + 7, .seq = 0, .check = 0};
    }
    uint64_t good = bad_every ? i - i / bad_every : i;
    uint32_t consumer = (uint32_t)(good % consumers);
    uint32_t seq = (uint32_t)(good / consumers);
    return (struct pipeline_item){consumer, seq, pipeline_check(consumer, seq)};
}

static void fill(void)
{
    bool pushed = false;
    while (next < items) {
        struct pipeline_item item = item_at(next);
        if (pn_ring_push(&out, &item) != PN_RING_OK) {
            pn_ring_request_space_signal(&out);
            if (pn_ring_producer_full(&out)) {
                break;
            }
            pn_ring_cancel_space_signal(&out);
            continue;
        }
        pushed = true;
        if (item.consumer >= consumers) {
            ++*bad_sent;
        } else {
            ++*sent;
        }
        next++;
    }
    if (pushed && pn_ring_require_signal(&out)) {
        pn_notify(out_ch);
    }
}

void init(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    items = pn_require_param_u64("items");
    consumers = pn_require_param_u64("consumers");
    bad_every = pn_param_u64_or("bad_every", 0);
    if (consumers == 0) {
        pn_fatal("parameter \"consumers\" must be at least 1");
    }
    void *ring = pn_require_region(
        "out", pn_ring_bytes((uint32_t)capacity, sizeof(struct pipeline_item)), 0);
    if (capacity > UINT32_MAX ||
        !pn_ring_producer_attach(&out, ring, (uint32_t)capacity, sizeof(struct pipeline_item))) {
        pn_fatal("parameter \"capacity\" must be a power of two");
    }
    out_ch = pn_require_channel("out");
    sent = pn_counter("sent");
    bad_sent = pn_counter("bad_sent");
    fill();
}

void notified(pn_channel ch)
{
    if (ch == out_ch) {
        fill();
    }
}
