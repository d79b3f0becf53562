/*
 * Test component: needs a region its system does not map, so it stops at
 * init with a message naming the region, while the other PDs run on.
 */
#include <pinion/component.h>
#include <pinion/wiring.h>

void init(void)
{
    pn_require_region("rx_queue", 4096, 0);
    pn_dbg_puts("unreachable\n");
}

void notified(pn_channel ch)
{
    (void)ch;
}
