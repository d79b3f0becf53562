/*
 * A test PD program with a counter table (so the packer finds
 * pn_counter_table), a marker the QEMU load check looks for at the start
 * of its data segment, read-only data, and zero-initialised data.
 */
#include <pinion/counters.h>

struct pn_counter_table pn_counter_table;

/* "PNTEST!!": the first eight bytes of the data segment. */
__attribute__((section(".data.marker"))) volatile uint64_t test_marker = 0x2121545345544e50ull;

const char test_greeting[] = "a pinion image test program";

volatile uint64_t test_spins;

__attribute__((section(".text.start"), noreturn)) void _start(void)
{
    for (;;) {
        test_spins += (uint64_t)test_greeting[test_spins % sizeof test_greeting];
    }
}
