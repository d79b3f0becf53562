/*
 * GICv3: the distributor routes device interrupts (SPIs) to the core of the
 * PD that owns them; each core's redistributor and CPU interface take SGIs
 * (cross-core notifications), the EL2 timer and those SPIs. Everything is
 * Group 1 (QEMU virt without security: one security state). EOImode is 1:
 * the kernel drops priority at once and deactivates a device interrupt only
 * when its PD acknowledges it, so a level-triggered device cannot fire
 * again before its driver has dealt with it.
 */
#include "arch.h"
#include "sysreg.h"

#define GICD_CTLR       0x0000
#define GICD_TYPER      0x0004
#define GICD_IGROUPR    0x0080
#define GICD_ISENABLER  0x0100
#define GICD_ICENABLER  0x0180
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR      0x0c00
#define GICD_IGRPMODR   0x0d00
#define GICD_IROUTER    0x6000

#define GICD_CTLR_RWP    (1u << 31)
#define GICD_CTLR_ARE    (1u << 4)
#define GICD_CTLR_ENGRP1 (1u << 1)

#define GICR_WAKER      0x0014
#define GICR_TYPER      0x0008
#define GICR_SGI        0x10000
#define GICR_IGROUPR0   (GICR_SGI + 0x0080)
#define GICR_ISENABLER0 (GICR_SGI + 0x0100)
#define GICR_ICENABLER0 (GICR_SGI + 0x0180)
#define GICR_IPRIORITYR (GICR_SGI + 0x0400)

#define WAKER_PROCESSOR_SLEEP (1u << 1)
#define WAKER_CHILDREN_ASLEEP (1u << 2)
#define TYPER_LAST            (1u << 4)

#define PRIORITY_DEFAULT 0xa0

static uintptr_t redistributor[PN_BOOT_MAX_CORES];

/* QEMU virt gives core i the affinity Aff1 = i / 8, Aff0 = i % 8. */
uint64_t core_mpidr(uint32_t core)
{
    return ((uint64_t)(core / 8) << 8) | (core % 8);
}

static void wait_distributor(void)
{
    while (mmio_read32(GICD_BASE + GICD_CTLR) & GICD_CTLR_RWP) {
    }
}

void gic_init_distributor(void)
{
    mmio_write32(GICD_BASE + GICD_CTLR, 0);
    wait_distributor();
    uint32_t lines = ((mmio_read32(GICD_BASE + GICD_TYPER) & 0x1f) + 1) * 32;
    for (uint32_t i = 32; i < lines; i += 32) {
        mmio_write32(GICD_BASE + GICD_ICENABLER + i / 8, 0xffffffffu);
        mmio_write32(GICD_BASE + GICD_IGROUPR + i / 8, 0xffffffffu);
    }
    wait_distributor();
    mmio_write32(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENGRP1);
    wait_distributor();
}

void gic_route_spi(uint32_t intid, uint32_t core, bool edge)
{
    uintptr_t cfg = GICD_BASE + GICD_ICFGR + (intid / 16) * 4;
    uint32_t shift = (intid % 16) * 2 + 1;
    uint32_t value = mmio_read32(cfg);
    value = edge ? value | (1u << shift) : value & ~(1u << shift);
    mmio_write32(cfg, value);
    *(volatile uint8_t *)(GICD_BASE + GICD_IPRIORITYR + intid) = PRIORITY_DEFAULT;
    mmio_write64(GICD_BASE + GICD_IROUTER + intid * 8, core_mpidr(core));
    mmio_write32(GICD_BASE + GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32));
    wait_distributor();
}

void gic_disable_spi(uint32_t intid)
{
    mmio_write32(GICD_BASE + GICD_ICENABLER + (intid / 32) * 4, 1u << (intid % 32));
    wait_distributor();
}

void gic_enable_ppi(uint32_t core, uint32_t intid)
{
    mmio_write32(redistributor[core] + GICR_ISENABLER0, 1u << intid);
}

static uintptr_t find_redistributor(uint64_t mpidr)
{
    uint32_t affinity = (uint32_t)(((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff));
    for (uintptr_t frame = GICR_BASE;; frame += GICR_STRIDE) {
        uint64_t typer = mmio_read64(frame + GICR_TYPER);
        if ((uint32_t)(typer >> 32) == affinity) {
            return frame;
        }
        if (typer & TYPER_LAST) {
            return 0;
        }
    }
}

bool gic_init_cpu(uint32_t core)
{
    uintptr_t rd = find_redistributor(read_sysreg(mpidr_el1));
    if (rd == 0) {
        return false;
    }
    redistributor[core] = rd;
    mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~WAKER_PROCESSOR_SLEEP);
    while (mmio_read32(rd + GICR_WAKER) & WAKER_CHILDREN_ASLEEP) {
    }
    mmio_write32(rd + GICR_ICENABLER0, 0xffffffffu);
    mmio_write32(rd + GICR_IGROUPR0, 0xffffffffu);
    for (uint32_t intid = 0; intid < 32; intid++) {
        *(volatile uint8_t *)(rd + GICR_IPRIORITYR + intid) = PRIORITY_DEFAULT;
    }
    mmio_write32(rd + GICR_ISENABLER0, (1u << SGI_NOTIFY) | (1u << SGI_HALT) | (1u << TIMER_INTID));

    write_icc(ICC_SRE_EL2, 0xf);
    isb();
    write_icc(ICC_PMR_EL1, 0xff);
    write_icc(ICC_BPR1_EL1, 0);
    write_icc(ICC_CTLR_EL1, 1u << 1); /* EOImode: priority drop and deactivation apart */
    write_icc(ICC_IGRPEN1_EL1, 1);
    isb();
    return true;
}

void gic_send_sgi(uint32_t intid, uint32_t core)
{
    uint64_t mpidr = core_mpidr(core);
    uint64_t value =
        ((uint64_t)intid << 24) | (((mpidr >> 8) & 0xff) << 16) | (1u << (mpidr & 0xf));
    dsb_ish(); /* what the target will read is visible before the interrupt */
    write_icc(ICC_SGI1R_EL1, value);
    isb();
}

uint32_t gic_acknowledge(void)
{
    uint32_t intid = (uint32_t)read_icc(ICC_IAR1_EL1) & 0xffffff;
    __asm__ volatile("dsb sy" ::: "memory");
    return intid;
}

void gic_priority_drop(uint32_t intid)
{
    write_icc(ICC_EOIR1_EL1, intid);
}

void gic_deactivate(uint32_t intid)
{
    write_icc(ICC_DIR_EL1, intid);
}
