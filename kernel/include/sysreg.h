/* System register access and the barriers the kernel uses. */
#ifndef PINION_KERNEL_SYSREG_H
#define PINION_KERNEL_SYSREG_H

#include <stdint.h>

#define read_sysreg(reg)                                                                           \
    ({                                                                                             \
        uint64_t value_;                                                                           \
        __asm__ volatile("mrs %0, " #reg : "=r"(value_));                                          \
        value_;                                                                                    \
    })

#define write_sysreg(reg, value)                                                                   \
    do {                                                                                           \
        uint64_t value_ = (uint64_t)(value);                                                       \
        __asm__ volatile("msr " #reg ", %0" ::"r"(value_));                                        \
    } while (0)

/* GICv3 CPU interface registers by encoding, so no assembler support is needed. */
#define ICC_IAR1_EL1    "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1   "S3_0_C12_C12_1"
#define ICC_DIR_EL1     "S3_0_C12_C11_1"
#define ICC_SGI1R_EL1   "S3_0_C12_C11_5"
#define ICC_PMR_EL1     "S3_0_C4_C6_0"
#define ICC_CTLR_EL1    "S3_0_C12_C12_4"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_SRE_EL2     "S3_4_C12_C9_5"
#define ICC_BPR1_EL1    "S3_0_C12_C12_3"

#define read_icc(reg)                                                                              \
    ({                                                                                             \
        uint64_t value_;                                                                           \
        __asm__ volatile("mrs %0, " reg : "=r"(value_));                                           \
        value_;                                                                                    \
    })

#define write_icc(reg, value)                                                                      \
    do {                                                                                           \
        uint64_t value_ = (uint64_t)(value);                                                       \
        __asm__ volatile("msr " reg ", %0" ::"r"(value_));                                         \
    } while (0)

static inline void isb(void)
{
    __asm__ volatile("isb" ::: "memory");
}

static inline void dsb_ish(void)
{
    __asm__ volatile("dsb ish" ::: "memory");
}

static inline void dsb_sy(void)
{
    __asm__ volatile("dsb sy" ::: "memory");
}

static inline void wfi(void)
{
    __asm__ volatile("wfi" ::: "memory");
}

static inline void cpu_relax(void)
{
    __asm__ volatile("yield" ::: "memory");
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uintptr_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
}

static inline uint64_t mmio_read64(uintptr_t addr)
{
    return *(volatile uint64_t *)addr;
}

static inline void mmio_write64(uintptr_t addr, uint64_t value)
{
    *(volatile uint64_t *)addr = value;
}

#endif
