/* Test component: counts its device interrupt "dev" and acknowledges it. */
#include <pinion/component.h>
#include <pinion/wiring.h>

static pn_channel dev;
static uint64_t *irqs;

void init(void)
{
    dev = pn_require_channel("dev");
    irqs = pn_counter("irqs");
}

void notified(pn_channel ch)
{
    if (ch == dev) {
        ++*irqs;
        pn_irq_ack(dev);
    }
}
