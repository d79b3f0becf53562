/*
 * Pipeline demo, multiplexer: moves items from its "in" ring to the ring of
 * the consumer each names ("out0", "out1", ...; as many as are mapped).
 * An item naming no such consumer is dropped and counted, never followed.
 * An item whose consumer's ring is full waits at the head of the input
 * (head-of-line blocking is accepted in this demo).
 */
#include "pipeline_item.h"

#include <pinion/component.h>
#include <pinion/ring.h>
#include <pinion/wiring.h>

#define MAX_OUTPUTS 8

static struct pn_ring_consumer in;
static pn_channel in_ch;
static struct pn_ring_producer out[MAX_OUTPUTS];
static pn_channel out_ch[MAX_OUTPUTS];
static uint32_t n_out;
static struct pipeline_item held;
static bool holding;
static uint64_t *forwarded, *dropped;

static void forward(void);

static bool attach_output(uint32_t index, uint32_t capacity)
{
    char name[8] = {'o', 'u', 't', (char)('0' + index), '\0'};
    void *ring = pn_region(name, 0);
    if (ring == 0) {
        return false;
    }
    if (!pn_ring_producer_attach(&out[index], ring, capacity, sizeof(struct pipeline_item))) {
        pn_fatal("parameter \"capacity\" must be a power of two");
    }
    out_ch[index] = pn_require_channel(name);
    return true;
}

void init(void)
{
    uint64_t capacity = pn_require_param_u64("capacity");
    if (capacity > UINT32_MAX) {
        pn_fatal("parameter \"capacity\" is too large");
    }
    size_t ring_bytes = pn_ring_bytes((uint32_t)capacity, sizeof(struct pipeline_item));
    void *ring = pn_require_region("in", ring_bytes, 0);
    if (!pn_ring_consumer_attach(&in, ring, (uint32_t)capacity, sizeof(struct pipeline_item))) {
        pn_fatal("parameter \"capacity\" must be a power of two");
    }
    in_ch = pn_require_channel("in");
    while (n_out < MAX_OUTPUTS && attach_output(n_out, (uint32_t)capacity)) {
        n_out++;
    }
    if (n_out == 0) {
        pn_fatal("no output ring \"out0\" is mapped");
    }
    forwarded = pn_counter("forwarded");
    dropped = pn_counter("dropped_bad_consumer");
    /* The producer may have pushed before we asked to be signalled. */
    forward();
}

static void forward(void)
{
    bool took = false;
    uint32_t pushed_to = 0; /* bit per output */
    for (;;) {
        if (!holding) {
            if (pn_ring_pop(&in, &held) != PN_RING_OK) {
                pn_ring_request_signal(&in);
                if (pn_ring_consumer_empty(&in)) {
                    break;
                }
                pn_ring_cancel_signal(&in);
                continue;
            }
            took = true;
            if (held.consumer >= n_out) {
                ++*dropped;
                continue;
            }
            holding = true;
        }
        struct pn_ring_producer *target = &out[held.consumer];
        if (pn_ring_push(target, &held) != PN_RING_OK) {
            pn_ring_request_space_signal(target);
            if (pn_ring_producer_full(target)) {
                break;
            }
            pn_ring_cancel_space_signal(target);
            continue;
        }
        holding = false;
        pushed_to |= 1u << held.consumer;
        ++*forwarded;
    }
    for (uint32_t i = 0; i < n_out; i++) {
        if ((pushed_to & (1u << i)) && pn_ring_require_signal(&out[i])) {
            pn_notify(out_ch[i]);
        }
    }
    if (took && pn_ring_require_space_signal(&in)) {
        pn_notify(in_ch);
    }
}

void notified(pn_channel ch)
{
    (void)ch; /* input and output channels alike mean: make progress */
    forward();
}
