/*
 * The EL2 physical timer (CNTHP), one per core: it closes coalescing
 * windows. PDs may read the counter but not program any timer.
 */
#include "arch.h"
#include "sysreg.h"

static uint64_t frequency;

void timer_init_cpu(void)
{
    frequency = read_sysreg(cntfrq_el0);
    write_sysreg(cnthp_ctl_el2, 0);
    /* EL1 may read the physical counter, not use the physical timer. */
    write_sysreg(cnthctl_el2, 1u << 0);
    write_sysreg(cntvoff_el2, 0);
    isb();
}

uint64_t timer_now(void)
{
    isb();
    return read_sysreg(cntpct_el0);
}

uint64_t timer_ticks_from_us(uint64_t us)
{
    return us * frequency / 1000000u;
}

void timer_arm_at(uint64_t deadline)
{
    write_sysreg(cnthp_cval_el2, deadline);
    write_sysreg(cnthp_ctl_el2, 1); /* enabled, not masked */
    isb();
}

void timer_disarm(void)
{
    write_sysreg(cnthp_ctl_el2, 0);
    isb();
}
