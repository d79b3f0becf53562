/* Test component: makes one protected call at init and keeps the answer. */
#include <pinion/component.h>
#include <pinion/wiring.h>

void init(void)
{
    pn_channel server = pn_require_channel("server");
    pn_mr_set(0, 6);
    pn_mr_set(1, 7);
    pn_msginfo reply = pn_ppcall(server, (pn_msginfo){.label = 100, .count = 2});
    *pn_counter("label") = reply.label;
    *pn_counter("product") = pn_mr_get(0);
}

void notified(pn_channel ch)
{
    (void)ch;
}
