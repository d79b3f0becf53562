/*
 * Test component: misbehaves at init as its `fault` parameter says:
 * "write" stores outside its regions, "undefined" executes an undefined
 * instruction, "smc" tries a firmware call. The kernel must stop it, name
 * it, and keep every other PD running.
 */
#include <pinion/component.h>
#include <pinion/wiring.h>

#if defined(__aarch64__)
static bool is(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++, b++;
    }
    return *a == *b;
}
#endif

void init(void)
{
    const char *fault = pn_param("fault");
    if (fault == 0) {
        pn_fatal("parameter \"fault\" is not set");
    }
    pn_dbg_puts("misbehaving now\n");
#if defined(__aarch64__)
    if (is(fault, "write")) {
        *(volatile uint64_t *)(uintptr_t)pn_require_param_u64("address") = 0xbad;
    } else if (is(fault, "undefined")) {
        __asm__ volatile(".word 0x00000000");
    } else if (is(fault, "smc")) {
        __asm__ volatile("smc #0");
    }
#else
    pn_fatal("the rogue misbehaves only on the pinion kernel");
#endif
    pn_dbg_puts("still running: the fault was not caught\n");
}

void notified(pn_channel ch)
{
    (void)ch;
}
