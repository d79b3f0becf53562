/* The hardware the kernel drives on QEMU's virt board, seen from C. */
#ifndef PINION_KERNEL_ARCH_H
#define PINION_KERNEL_ARCH_H

#include <pinion/bootinfo.h>
#include <stdbool.h>
#include <stdint.h>

/* QEMU virt (boards/qemu-virt-aarch64): fixed addresses. */
#define GICD_BASE             0x08000000ul
#define GICR_BASE             0x080a0000ul
#define GICR_STRIDE           0x20000ul
#define UART_BASE             0x09000000ul
#define UART_INTID            33
#define SGI_NOTIFY            1  /* cross-core notifications are waiting */
#define SGI_HALT              2  /* the run is over: stop this core */
#define TIMER_INTID           26 /* EL2 physical timer (CNTHP) */
#define GIC_MAINTENANCE_INTID 25 /* the virtual CPU interface needs attention */
#define INTID_SPURIOUS        1023

/* gic.c */
void gic_init_distributor(void);
bool gic_init_cpu(uint32_t core);
void gic_route_spi(uint32_t intid, uint32_t core, bool edge);
void gic_disable_spi(uint32_t intid);
void gic_enable_ppi(uint32_t core, uint32_t intid);
void gic_send_sgi(uint32_t intid, uint32_t core);
uint32_t gic_acknowledge(void);
void gic_priority_drop(uint32_t intid);
void gic_deactivate(uint32_t intid);
uint64_t core_mpidr(uint32_t core);

/* timer.c */
void timer_init_cpu(void);
uint64_t timer_now(void);
uint64_t timer_ticks_from_us(uint64_t us);
void timer_arm_at(uint64_t deadline);
void timer_disarm(void);

/* psci.c */
int64_t psci_cpu_on(uint64_t mpidr, uint64_t entry, uint64_t context);
_Noreturn void psci_system_off(void);

/* mmu.c, stage2.c */
void mmu_build_el2(void);
void mmu_enable_el2(void);
void stage2_init(uint64_t pool_start, uint64_t pool_end);
bool stage2_map(uint64_t *root, uint64_t ipa, uint64_t pa, uint64_t size, uint32_t rights,
                uint32_t attr, const char **why);
uint64_t *stage2_new_root(void);
void stage2_enable_cpu(void);
uint64_t stage2_pool_used(void);
/* Physical address behind `ipa` in `root` if mapped readable for `len` bytes, else 0. */
uint64_t stage2_translate(const uint64_t *root, uint64_t ipa, uint64_t len);

#endif
