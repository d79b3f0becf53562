/*
 * Micro-benchmark: sends `count` notifications on "sink" one way, from
 * init() inside measurement phase 1, spinning `gap` iterations in between
 * so that a receiver on another core usually handles one before the next.
 * It never waits meanwhile, so a batching policy that flushes when the
 * sender waits holds everything until the end.
 */
#include <pinion/component.h>
#include <pinion/wiring.h>

void init(void)
{
    pn_channel sink = pn_require_channel("sink");
    uint64_t count = pn_require_param_u64("count");
    uint64_t gap = pn_param_u64_or("gap", 0);
    pn_phase(1);
    for (uint64_t i = 0; i < count; i++) {
        pn_notify(sink);
        for (volatile uint64_t spin = 0; spin < gap; spin++) {
        }
    }
    pn_phase(2);
    *pn_counter("sent") = count;
}

void notified(pn_channel ch)
{
    (void)ch;
}
