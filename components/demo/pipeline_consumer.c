/*
 * Pipeline demo, consumer: takes items from its "in" ring, checks each is
 * the next in sequence for this consumer (`index`) with the right check
 * value, and says so once all `items` have arrived.
 */
#include "pipeline_item.h"

#include <pinion/component.h>
#include <pinion/ring.h>
#include <pinion/wiring.h>

static struct pn_ring_consumer in;
static pn_channel in_ch;
static uint32_t index;
static uint64_t expected_items;
static uint32_t next_seq;
static uint64_t *received, *out_of_order, *corrupt;
static bool reported;

static void drain(void);

void init(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    index = (uint32_t)pn_require_param_u64("index");
    expected_items = pn_require_param_u64("items");
    if (capacity > UINT32_MAX) {
        pn_fatal("parameter \"capacity\" is too large");
    }
    void *ring =
        pn_require_region("in", pn_ring_bytes((uint32_t)capacity, sizeof(struct pipeline_item)), 0);
    if (!pn_ring_consumer_attach(&in, ring, (uint32_t)capacity, sizeof(struct pipeline_item))) {
        pn_fatal("parameter \"capacity\" must be a power of two");
    }
    in_ch = pn_require_channel("in");
    received = pn_counter("received");
    out_of_order = pn_counter("out_of_order");
    corrupt = pn_counter("corrupt");
    /* The producer may have pushed before we asked to be signalled. */
    drain();
}

static void report(void)
{
    if (*out_of_order == 0 && *corrupt == 0) {
        pn_dbg_puts("complete: every item arrived once, in order, intact\n");
    } else {
        pn_dbg_puts("complete, with errors: see the counters\n");
    }
    reported = true;
}

static void drain(void)
{
    bool took = false;
    for (;;) {
        struct pipeline_item item;
        if (pn_ring_pop(&in, &item) != PN_RING_OK) {
            pn_ring_request_signal(&in);
            if (pn_ring_consumer_empty(&in)) {
                break;
            }
            pn_ring_cancel_signal(&in);
            continue;
        }
        took = true;
        ++*received;
        if (item.consumer != index || item.check != pipeline_check(item.consumer, item.seq)) {
            ++*corrupt;
        } else if (item.seq != next_seq) {
            ++*out_of_order;
            next_seq = item.seq + 1;
        } else {
            next_seq++;
        }
    }
    if (took && pn_ring_require_space_signal(&in)) {
        pn_notify(in_ch);
    }
    if (!reported && *received >= expected_items) {
        report();
    }
}

void notified(pn_channel ch)
{
    if (ch == in_ch) {
        drain();
    }
}
