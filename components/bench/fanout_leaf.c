/* Micro-benchmark: a fan-out leaf answers every notification from its hub. */
#include <pinion/component.h>
#include <pinion/wiring.h>

static pn_channel hub;
static uint64_t *answers;

void init(void)
{
    hub = pn_require_channel("hub");
    answers = pn_counter("answers");
}

void notified(pn_channel ch)
{
    if (ch == hub) {
        ++*answers;
        pn_notify(hub);
    }
}
