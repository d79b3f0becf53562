/* Micro-benchmark: counts the notifications a stream sender delivers. */
#include <pinion/component.h>
#include <pinion/wiring.h>

static pn_channel source;
static uint64_t *deliveries;

void init(void)
{
    source = pn_require_channel("source");
    deliveries = pn_counter("deliveries");
}

void notified(pn_channel ch)
{
    if (ch == source) {
        ++*deliveries;
    }
}
