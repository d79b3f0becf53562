/*
 * The kernel's own translation at EL2: an identity map of the low 4 GiB in
 * 1 GiB blocks, devices below RAM as Device-nGnRnE, RAM as normal
 * write-back memory (needed for caches and for the exclusive loads and
 * stores of the kernel's locks).
 */
#include "arch.h"
#include "sysreg.h"

#define MAIR_DEVICE_NGNRNE 0x00
#define MAIR_NORMAL_WB     0xff
#define ATTR_DEVICE        0
#define ATTR_NORMAL        1

#define DESC_BLOCK    0x1ull
#define DESC_AF       (1ull << 10)
#define DESC_SH_INNER (3ull << 8)
#define DESC_XN       (1ull << 54)
#define DESC_ATTR(i)  ((uint64_t)(i) << 2)

static uint64_t el2_level1[512] __attribute__((aligned(4096)));

void mmu_build_el2(void)
{
    el2_level1[0] = 0 | DESC_BLOCK | DESC_AF | DESC_ATTR(ATTR_DEVICE) | DESC_XN;
    for (uint64_t gib = 1; gib < 4; gib++) {
        el2_level1[gib] =
            (gib << 30) | DESC_BLOCK | DESC_AF | DESC_SH_INNER | DESC_ATTR(ATTR_NORMAL);
    }
    dsb_sy();
}

void mmu_enable_el2(void)
{
    write_sysreg(mair_el2, (uint64_t)MAIR_DEVICE_NGNRNE | ((uint64_t)MAIR_NORMAL_WB << 8));
    /* T0SZ 32 (4 GiB from level 1), WB cacheable walks, inner shareable, 4 KiB granule,
       40-bit physical addresses, and the two RES1 bits. */
    uint64_t tcr =
        32 | (1u << 8) | (1u << 10) | (3u << 12) | (2ull << 16) | (1u << 23) | (1u << 31);
    write_sysreg(tcr_el2, tcr);
    write_sysreg(ttbr0_el2, (uint64_t)(uintptr_t)el2_level1);
    isb();
    __asm__ volatile("tlbi alle2\n dsb ish\n isb" ::: "memory");
    uint64_t sctlr = read_sysreg(sctlr_el2);
    sctlr |= (1u << 0) | (1u << 2) | (1u << 12); /* M, C, I */
    sctlr &= ~(1ull << 1);                       /* no alignment checks */
    write_sysreg(sctlr_el2, sctlr);
    isb();
}
