/*
 * Test component: answers a protected call with the sum of message
 * registers 0 and 1 as the label and their product in register 0.
 */
#include <pinion/component.h>
#include <pinion/wiring.h>

static uint64_t *calls;

void init(void)
{
    calls = pn_counter("calls");
}

void notified(pn_channel ch)
{
    (void)ch;
}

pn_msginfo protected(pn_channel ch, pn_msginfo info)
{
    (void)ch;
    ++*calls;
    uint64_t a = pn_mr_get(0), b = pn_mr_get(1);
    pn_mr_set(0, a * b);
    return (pn_msginfo){.label = info.label + a + b, .count = 1};
}
