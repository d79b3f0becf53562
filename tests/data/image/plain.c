/* A test PD program without a counter table. */
#include <stdint.h>

volatile uint64_t plain_spins;

__attribute__((section(".text.start"), noreturn)) void _start(void)
{
    for (;;) {
        plain_spins++;
    }
}
