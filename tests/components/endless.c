/* Test component: notifies its peer on every notification, forever. */
#include <pinion/component.h>
#include <pinion/wiring.h>

static pn_channel peer;

void init(void)
{
    peer = pn_require_channel("peer");
    if (pn_param_u64_or("starts", 0)) {
        pn_notify(peer);
    }
}

void notified(pn_channel ch)
{
    pn_notify(ch);
}
